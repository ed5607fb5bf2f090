"""The decision environment: `make de-context` (ansible-builder create) holds the collection with its sources and
rulebooks, ansible-rulebook and the Java it needs."""
from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import yaml

from ..conftest import REPO


def test_de_context_has_the_engine_its_java_and_the_sources(tmp_path: Path):
    context = tmp_path / "context"
    proc = subprocess.run(["make", "-s", "de-context", f"DE_CONTEXT={context}"], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    build = context / "_build"
    assert "ansible-rulebook" in (build / "requirements.txt").read_text()
    assert "java-17-openjdk-headless" in (build / "bindep.txt").read_text()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": "collections/clore-ai.tar.gz", "type": "file"}]}
    with tarfile.open(build / "collections" / "clore-ai.tar.gz") as tar:
        names = set(tar.getnames())
    for name in ("market.py", "orders.py"):
        assert f"extensions/eda/plugins/event_source/{name}" in names
    for name in ("auto_rent.yml", "keep_fleet.yml", "reap.yml"):
        assert f"extensions/eda/rulebooks/{name}" in names
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-rulebook --version" in containerfile
