"""The demo's job: read the GPUs with nvidia-smi, do a little arithmetic, write result.json.

Standard library only, so that it runs in any container with Python 3.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time


def gpus() -> list[dict]:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
        check=True, capture_output=True, text=True,
    ).stdout
    found = []
    for line in out.splitlines():
        if line.strip():
            name, memory = (line.rsplit(",", 1) + [""])[:2]
            found.append({"name": name.strip(), "memory": memory.strip()})
    return found


def main() -> None:
    started = time.monotonic()
    found = gpus()
    print(f"found {len(found)} GPU(s)", flush=True)
    # A stand-in for real work: a checksum over a few million integers.
    checksum = sum(i * i % 7919 for i in range(2_000_000))
    print("progress: 100%", flush=True)
    names = sorted({gpu["name"] for gpu in found})
    result = {
        "host": socket.gethostname(),
        "greeting": os.environ.get("DEMO_GREETING", ""),
        "gpus": found,
        "summary": f"{len(found)}x {' + '.join(names)} ({found[0]['memory'] if found else 'no memory'})",
        "checksum": checksum,
        "seconds": round(time.monotonic() - started, 2),
    }
    with open("result.json", "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
