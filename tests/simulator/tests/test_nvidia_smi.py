"""The nvidia-smi stand-in, run here directly with the interpreter orders use (/usr/bin/python3)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clore_sim import nvidia_smi

PYTHON = "/usr/bin/python3"


@pytest.fixture
def smi(tmp_path: Path):
    def run(model: str, count: int, memory: int, *args: str) -> subprocess.CompletedProcess:
        script = tmp_path / "nvidia-smi"
        script.write_text(nvidia_smi.render(model, count, memory, "12.6", 3))
        return subprocess.run([PYTHON, str(script), *args], capture_output=True, text=True, timeout=30, check=False)

    if not Path(PYTHON).exists():
        pytest.skip("no /usr/bin/python3")
    return run


def test_default_table_has_one_block_per_gpu_and_straight_edges(smi) -> None:
    result = smi("NVIDIA H100 80GB HBM3", 8, 80)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert {len(line) for line in lines[1:] if line} == {91}
    assert result.stdout.count("NVIDIA H100 80GB HBM3") == 8
    assert result.stdout.count("81920MiB") == 8
    assert "CUDA Version: 12.6" in result.stdout and "Driver Version: 550.54.15" in result.stdout


def test_query_formats(smi) -> None:
    query = "--query-gpu=name,memory.total,memory.free,index,driver_version,utilization.gpu"
    assert smi("NVIDIA GeForce RTX 3090", 2, 24, query, "--format=csv").stdout.splitlines() == [
        "name, memory.total [MiB], memory.free [MiB], index, driver_version, utilization.gpu [%]",
        "NVIDIA GeForce RTX 3090, 24576 MiB, 24575 MiB, 0, 550.54.15, 0 %",
        "NVIDIA GeForce RTX 3090, 24576 MiB, 24575 MiB, 1, 550.54.15, 0 %",
    ]
    assert smi("NVIDIA GeForce RTX 3090", 1, 24, query, "--format=csv,noheader").stdout.splitlines() == [
        "NVIDIA GeForce RTX 3090, 24576 MiB, 24575 MiB, 0, 550.54.15, 0 %"]
    assert smi("NVIDIA GeForce RTX 3090", 1, 24, "--query-gpu", "name,memory.total", "--format",
               "csv,noheader,nounits").stdout == "NVIDIA GeForce RTX 3090, 24576\n"
    assert smi("NVIDIA GeForce RTX 3090", 1, 24, "--query-gpu=count", "--format=csv,noheader").stdout == "1\n"


def test_bad_queries_fail_like_nvidia_smi(smi) -> None:
    unknown = smi("NVIDIA A100-SXM4-80GB", 1, 80, "--query-gpu=name,nonsense", "--format=csv")
    assert unknown.returncode == 2 and "nonsense" in unknown.stderr
    no_format = smi("NVIDIA A100-SXM4-80GB", 1, 80, "--query-gpu=name")
    assert no_format.returncode != 0


def test_utilization_comes_from_the_file_in_the_orders_root(tmp_path: Path) -> None:
    if not Path(PYTHON).exists():
        pytest.skip("no /usr/bin/python3")
    (tmp_path / "bin").mkdir()
    (tmp_path / "root").mkdir()
    script = tmp_path / "bin" / "nvidia-smi"
    script.write_text(nvidia_smi.render("NVIDIA GeForce RTX 4090", 2, 24, "12.6", 3))
    query = [PYTHON, str(script), "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]

    def read() -> list[str]:
        return subprocess.run(query, capture_output=True, text=True, timeout=30, check=True).stdout.split()

    assert read() == ["0", "0"]
    (tmp_path / "root" / nvidia_smi.UTILIZATION_FILE).write_text("85\n")
    assert read() == ["85", "85"]
    table = subprocess.run([PYTHON, str(script)], capture_output=True, text=True, timeout=30, check=True).stdout
    assert " 85%      Default |" in table
    assert {len(line) for line in table.splitlines()[1:] if line} == {91}
