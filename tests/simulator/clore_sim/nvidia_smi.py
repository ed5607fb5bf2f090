"""The `nvidia-smi` stand-in placed in each order's /usr/local/bin: it reports the rented server's GPUs.

Their utilisation is 0 % (idle) unless the admin call `gpu_utilization` wrote a percentage to UTILIZATION_FILE in the
order's root (its /root): then every GPU reports that, with memory and power to match.
"""
from __future__ import annotations

import json

DRIVER_VERSION = "550.54.15"
# In the order's root directory (<state dir>/orders/<id>/root, which is /root inside an isolated order).
UTILIZATION_FILE = ".clore-sim-gpu-utilization"

# Runs inside the order with /usr/bin/python3; GPUS is filled in per order.
SCRIPT = r'''#!/usr/bin/python3
"""nvidia-smi stand-in of clore-sim: reports the GPUs of the rented server (no real GPU is present)."""
import os
import sys
import time

GPUS = __GPUS__
UTILIZATION_FILE = __UTILIZATION_FILE__
DRIVER = __DRIVER__
CUDA = __CUDA__

UNITS = {"memory.total": "MiB", "memory.used": "MiB", "memory.free": "MiB", "power.draw": "W",
         "power.limit": "W", "utilization.gpu": "%", "utilization.memory": "%", "clocks.sm": "MHz",
         "clocks.max.sm": "MHz", "fan.speed": "%"}


def utilization():
    """The percentage the simulator set for this order: <order>/root next to <order>/bin, or /root when isolated."""
    here = os.path.dirname(os.path.realpath(__file__))
    for path in (os.path.join(here, "..", "root", UTILIZATION_FILE), os.path.join("/root", UTILIZATION_FILE)):
        try:
            with open(path) as handle:
                return max(0, min(100, int(float(handle.read().strip()))))
        except (OSError, ValueError):
            continue
    return 0


def value(gpu, index, field):
    mib = gpu["memory_mib"]
    busy = utilization()
    used = 1 if busy == 0 else max(1, mib * busy // 100)
    table = {
        "index": index, "name": gpu["name"], "gpu_name": gpu["name"], "count": len(GPUS),
        "memory.total": mib, "memory.used": used, "memory.free": mib - used,
        "uuid": "GPU-%08x-0000-4000-8000-%012x" % (gpu["seed"], index),
        "driver_version": DRIVER, "pci.bus_id": "00000000:%02X:00.0" % (index + 1),
        "temperature.gpu": 34 + busy // 3, "utilization.gpu": busy, "utilization.memory": busy // 2,
        "power.draw": "%.2f" % (21 + (gpu["power"] - 21) * busy / 100.0), "power.limit": "%.2f" % gpu["power"], "fan.speed": 30,
        "pstate": "P8", "compute_cap": gpu["compute_cap"], "clocks.sm": 210, "clocks.max.sm": 2520,
        "persistence_mode": "Disabled", "serial": "%013d" % (gpu["seed"] + index),
        "vbios_version": "95.02.18.80.5F",
    }
    if field not in table:
        sys.stderr.write('Field "%s" is not a valid field to query.\n' % field)
        sys.exit(2)
    return table[field]


def query(fields, fmt):
    options = set(fmt.split(",")[1:]) if fmt else set()
    if not fmt or not fmt.startswith("csv"):
        sys.stderr.write("clore-sim nvidia-smi: only --format=csv[,noheader][,nounits] is supported\n")
        return 2
    if "noheader" not in options:
        header = []
        for field in fields:
            unit = UNITS.get(field)
            header.append("%s [%s]" % (field, unit) if unit and "nounits" not in options else field)
        print(", ".join(header))
    for index, gpu in enumerate(GPUS):
        cells = []
        for field in fields:
            cell = str(value(gpu, index, field))
            unit = UNITS.get(field)
            if unit and "nounits" not in options:
                cell += " %" if unit == "%" else " " + unit
            cells.append(cell)
        print(", ".join(cells))
    return 0


def table():
    print(time.strftime("%a %b %d %H:%M:%S %Y"))
    line = "+-----------------------------------------------------------------------------------------+"
    print(line)
    print("| NVIDIA-SMI %-19s    Driver Version: %-14s CUDA Version: %-9s|" % (DRIVER, DRIVER, CUDA))
    print("|-----------------------------------------+------------------------+----------------------+")
    print("| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |")
    print("| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |")
    print("|                                         |                        |               MIG M. |")
    print("|=========================================+========================+======================|")
    for index, gpu in enumerate(GPUS):
        name = gpu["name"][:25]
        print("| %3d  %-25s      Off |   00000000:%02X:00.0 Off |                  Off |" % (index, name, index + 1))
        memory = "%dMiB / %6dMiB" % (value(gpu, index, "memory.used"), gpu["memory_mib"])
        print("| 30%%   %2dC    P8           %4sW / %4dW | %22s |    %3d%%      Default |" % (
            value(gpu, index, "temperature.gpu"), value(gpu, index, "power.draw").split(".")[0], gpu["power"],
            memory, value(gpu, index, "utilization.gpu")))
        print("|                                         |                        |                  N/A |")
        print("+-----------------------------------------+------------------------+----------------------+")
    print()
    print(line)
    print("| Processes:                                                                              |")
    print("|  GPU   GI   CI        PID   Type   Process name                              GPU Memory |")
    print("|        ID   ID                                                               Usage      |")
    print("|=========================================================================================|")
    print("|  No running processes found                                                             |")
    print(line)
    return 0


def main(argv):
    fields, fmt = None, None
    for i, arg in enumerate(argv):
        if arg.startswith("--query-gpu="):
            fields = [f.strip() for f in arg.split("=", 1)[1].split(",") if f.strip()]
        elif arg == "--query-gpu" and i + 1 < len(argv):
            fields = [f.strip() for f in argv[i + 1].split(",") if f.strip()]
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
        elif arg == "--format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif arg in ("-L", "--list-gpus"):
            for index, gpu in enumerate(GPUS):
                print("GPU %d: %s (UUID: %s)" % (index, gpu["name"], value(gpu, index, "uuid")))
            return 0
    if fields:
        return query(fields, fmt)
    return table()


sys.exit(main(sys.argv[1:]))
'''

POWER = {"4090": 450, "5090": 575, "H100": 700, "A100": 400, "3090": 350, "4080": 320, "A6000": 300}
COMPUTE_CAP = {"4090": "8.9", "4080": "8.9", "4070": "8.9", "5090": "12.0", "H100": "9.0", "A100": "8.0",
               "3090": "8.6", "3080": "8.6", "3070": "8.6", "3060": "8.6", "A6000": "8.6", "2080": "7.5",
               "1080": "6.1"}


def _lookup(table: dict, name: str, default):
    return next((v for k, v in table.items() if k in name), default)


def render(model: str, count: int, memory_gb: int, cuda_version: str | None, seed: int) -> str:
    """The script for an order whose server has `count` x `model` with `memory_gb` GB each."""
    gpus = [
        {"name": model, "memory_mib": memory_gb * 1024, "power": _lookup(POWER, model, 250),
         "compute_cap": _lookup(COMPUTE_CAP, model, "8.6"), "seed": seed}
        for _index in range(max(count, 1))
    ]
    return (
        SCRIPT.replace("__GPUS__", json.dumps(gpus))
        .replace("__DRIVER__", json.dumps(DRIVER_VERSION))
        .replace("__CUDA__", json.dumps(cuda_version or "12.4"))
        .replace("__UTILIZATION_FILE__", json.dumps(UTILIZATION_FILE))
    )
