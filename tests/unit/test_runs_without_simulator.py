"""The unit tests need no clore-sim: nothing they load (conftest files included) imports the simulator."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_unit_tests_run_with_clore_sim_unimportable(tmp_path):
    blocker = tmp_path / "clore_sim"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('clore-sim is not installed here')\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir", str(REPO),
         str(REPO / "tests/unit/test_docs_agree.py"), str(REPO / "tests/unit/plugins/module_utils/test_values.py")],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_no_unit_test_imports_the_simulator():
    importers = [path.relative_to(REPO).as_posix() for path in sorted((REPO / "tests/unit").rglob("*.py"))
                 if path.name != Path(__file__).name
                 and any(line.lstrip().startswith(("import clore_sim", "from clore_sim"))
                         for line in path.read_text().splitlines())]
    assert not importers, f"unit tests importing clore-sim: {importers}"
