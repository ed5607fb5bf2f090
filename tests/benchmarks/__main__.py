"""`make bench`: run every tests/benchmarks/bench_*.py and print one table of figures.

Each benchmark module has `run() -> list[dict]`, one dict per figure with the keys
`benchmark`, `metric`, `value`, `unit`, `target` (text, may be empty) and `ok` (bool or None when there is no target).
"""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    rows: list[dict] = []
    for name in names:
        started = time.monotonic()
        print(f"running {name} ...", flush=True)
        module = importlib.import_module(f"tests.benchmarks.{name}")
        rows.extend(module.run())
        print(f"  {name} took {time.monotonic() - started:.1f} s", flush=True)
    headers = ("benchmark", "metric", "value", "unit", "target", "ok")
    table = [headers] + [
        (
            str(r["benchmark"]),
            str(r["metric"]),
            f"{r['value']:.3f}" if isinstance(r["value"], float) else str(r["value"]),
            str(r.get("unit", "")),
            str(r.get("target", "")),
            {True: "yes", False: "NO", None: "-"}[r.get("ok")],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0 if all(r.get("ok") is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
