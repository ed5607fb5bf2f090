"""Compare an API answer with what the collection expects of it (api_fields.SHAPES): fields missing, of another
type, or unknown to the collection. A relied-on field that has another type anywhere, or is missing everywhere it
was looked for, is a failure; the rest is reported."""
from __future__ import annotations

from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.api_fields import SHAPES, Shape

# Fields of every answer that are not data (`recorded`: the header of a recording, see api_record.py).
ENVELOPE = ("code", "recorded")


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


def check_answer(endpoint: str, answer: Any) -> dict:
    """The report of one answer: {endpoint, objects, missing, wrong_type, unknown, failures}."""
    report: dict[str, Any] = {"endpoint": endpoint, "objects": {}, "missing": [], "wrong_type": [], "unknown": [],
                              "failures": []}
    if not isinstance(answer, dict):
        report["failures"].append(f"{endpoint}: the answer is {json_type(answer)}, not a JSON object")
        return report
    _walk(SHAPES[endpoint], [answer], "", report, top=True)
    return report


def _walk(shape: Shape, objects: list[dict], prefix: str, report: dict, top: bool = False) -> None:
    endpoint = report["endpoint"]
    report["objects"][prefix.rstrip(".") or "(answer)"] = len(objects)
    if not objects:
        return
    known = set(shape.fields) | set(shape.known) | (set(ENVELOPE) if top else set())
    unknown = sorted({key for obj in objects for key in obj if key not in known})
    report["unknown"] += [f"{prefix}{key}" for key in unknown]
    for name, (types, relied) in shape.fields.items():
        path = f"{prefix}{name}"
        values = [obj.get(name) for obj in objects]
        missing = sum(1 for value in values if value is None)
        wrong = [json_type(v) for v in values if v is not None and not _accepts(types, json_type(v))]
        if missing:
            report["missing"].append({"field": path, "rows": missing, "of": len(objects), "relied": relied})
            if relied and missing == len(objects):
                report["failures"].append(f"{endpoint}: {path} is missing"
                                          + (f" in all {len(objects)} rows" if len(objects) > 1 else "")
                                          + " and the collection relies on it")
        if wrong:
            got = sorted(set(wrong))
            report["wrong_type"].append({"field": path, "expected": list(types), "got": got, "rows": len(wrong),
                                         "of": len(objects), "relied": relied})
            if relied:
                report["failures"].append(f"{endpoint}: {path} is {'/'.join(got)} in {len(wrong)} of "
                                          f"{len(objects)}, expected {' or '.join(types)}; the collection relies "
                                          "on it")
        if name in shape.rows:
            rows = [item for value in values if isinstance(value, list) for item in value if isinstance(item, dict)]
            _walk(SHAPES[shape.rows[name]], rows, f"{path}[].", report)
        if name in shape.children:
            children = [value for value in values if isinstance(value, dict)]
            _walk(SHAPES[shape.children[name]], children, f"{path}.", report)
