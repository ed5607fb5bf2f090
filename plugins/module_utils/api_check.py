"""Compare an API answer with what the collection expects of it (api_fields.SHAPES): fields missing, of another
type, or unknown to the collection. A field the collection reads that has another type anywhere, or a relied-on
field missing everywhere it was looked for, is a failure; the rest is reported. The verdict and the failures are
derived from the same report entries (failures_of, summarize), so that the details never contradict the verdict."""
from __future__ import annotations

from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.api_fields import SHAPES, Shape

# Fields of every answer that are not data (`recorded`: the header of a recording, see api_record.py).
ENVELOPE = ("code", "recorded")
PASSED = "Every field the collection reads has its type, and every field it relies on is there."


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, as api_fields names them ("int" for a whole number)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return "null" if value is None else type(value).__name__


def _accepts(types: tuple[str, ...], got: str) -> bool:
    return got in types or (got in ("int", "float") and "number" in types)


def _item_types(value: Any) -> list[str]:
    """The JSON types of a list's items or a dict's values, sorted and without repeats."""
    items = value if isinstance(value, list) else value.values()
    return sorted({json_type(item) for item in items})


def _wrong(value: Any, types: tuple[str, ...], items: dict[str, tuple[str, ...]]) -> str | None:
    """None when value has one of `types` (and its items one of `items` of that container), else what it is."""
    got = json_type(value)
    if not _accepts(types, got):
        return got
    allowed = items.get(got)
    if allowed is None:
        return None
    bad = [kind for kind in _item_types(value) if not _accepts(allowed, kind)]
    return f"{got} of {'/'.join(_item_types(value))}" if bad else None


def _expected(types: tuple[str, ...], items: dict[str, tuple[str, ...]]) -> list[str]:
    return [f"{kind} of {'/'.join(items[kind])}" if kind in items else kind for kind in types]


def check_answer(endpoint: str, answer: Any, call: str | None = None) -> dict:
    """The report of one answer: {endpoint, objects, missing, wrong_type, unknown, failures}; the failures start
    with `call` (the name of the call, when one endpoint is called twice), else the endpoint."""
    report: dict[str, Any] = {"endpoint": endpoint, "objects": {}, "missing": [], "wrong_type": [], "unknown": [],
                              "failures": []}
    if not isinstance(answer, dict):
        report["failures"].append(f"{call or endpoint}: the answer is {json_type(answer)}, not a JSON object")
        return report
    _walk(SHAPES[endpoint], [answer], "", report, top=True)
    report["failures"] = failures_of(report, call or endpoint)
    return report


def failures_of(report: dict, call: str) -> list[str]:
    """The failures a report's entries amount to: every field of another type, every relied-on field missing in
    every row; each sentence starts with `call`."""
    failures = []
    for entry in report["missing"]:
        if entry["relied"] and entry["rows"] == entry["of"]:
            failures.append(f"{call}: {entry['field']} is missing"
                            + (f" in all {entry['of']} rows" if entry["of"] > 1 else "")
                            + " and the collection relies on it")
    for entry in report["wrong_type"]:
        failures.append(f"{call}: {entry['field']} is {' or '.join(entry['got'])} in {entry['rows']} of "
                        f"{entry['of']}, expected {' or '.join(entry['expected'])}; the collection "
                        + ("relies on it" if entry["relied"] else "reads it"))
    return failures


def summarize(reports: dict[str, dict]) -> dict:
    """{ok, failures, lines, verdict} of the reports of every call: one line per call saying what it held, and the
    verdict, both read from the same entries."""
    failures = [failure for report in reports.values() for failure in report["failures"]]
    lines = [_line(name, report) for name, report in reports.items()]
    verdict = PASSED if not failures else f"FAILED ({len(failures)}): " + "; ".join(failures)
    return {"ok": not failures, "failures": failures, "lines": lines, "verdict": verdict}


def _line(name: str, report: dict) -> str:
    objects = ", ".join(f"{path} x{count}" for path, count in report["objects"].items()) or "no object"
    missing = ", ".join(f"{m['field']} ({m['rows']} of {m['of']})" for m in report["missing"]) or "none"
    wrong = ", ".join(f"{w['field']} ({' or '.join(w['got'])}, expected {' or '.join(w['expected'])})"
                      for w in report["wrong_type"]) or "none"
    unknown = ", ".join(report["unknown"]) or "none"
    verdict = "FAILED" if report["failures"] else "ok"
    return f"{name}: {verdict}; {objects}; missing {missing}; wrong type {wrong}; unknown {unknown}"


def _walk(shape: Shape, objects: list[dict], prefix: str, report: dict, top: bool = False) -> None:
    report["objects"][prefix.rstrip(".") or "(answer)"] = len(objects)
    if not objects:
        return
    known = set(shape.fields) | set(shape.known) | (set(ENVELOPE) if top else set())
    unknown = sorted({key for obj in objects for key in obj if key not in known})
    report["unknown"] += [f"{prefix}{key}" for key in unknown]
    for name, (types, relied) in shape.fields.items():
        path = f"{prefix}{name}"
        values = [obj.get(name) for obj in objects]
        items = shape.items.get(name, {})
        missing = sum(1 for value in values if value is None)
        wrong = [got for got in (_wrong(v, types, items) for v in values if v is not None) if got is not None]
        if missing:
            report["missing"].append({"field": path, "rows": missing, "of": len(objects), "relied": relied})
        if wrong:
            report["wrong_type"].append({"field": path, "expected": _expected(types, items), "got": sorted(set(wrong)),
                                         "rows": len(wrong), "of": len(objects), "relied": relied})
        if name in shape.rows:
            rows = [item for value in values if isinstance(value, list) for item in value if isinstance(item, dict)]
            _walk(SHAPES[shape.rows[name]], rows, f"{path}[].", report)
        if name in shape.children:
            children = [value for value in values if isinstance(value, dict)]
            _walk(SHAPES[shape.children[name]], children, f"{path}.", report)
