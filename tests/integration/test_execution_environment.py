"""The execution environment: `make ee-context` (ansible-builder create) and, where a container engine runs, the image.

The build context is checked everywhere; building the image needs podman or a Docker engine (and the network for the
base image and PyPI), so that part is skipped where there is none.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
import yaml

from .conftest import REPO

EE_FILE = REPO / "extensions" / "ee" / "execution-environment.yml"


def galaxy_version() -> str:
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


def requirements(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build context that `make ee-context` writes (here into a temporary directory)."""
    directory = tmp_path_factory.mktemp("ee") / "context"
    proc = subprocess.run(["make", "-s", "ee-context", f"EE_CONTEXT={directory}"], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return directory


def test_definition_is_ansible_builder_3_on_a_named_base_image():
    definition = yaml.safe_load(EE_FILE.read_text())
    assert definition["version"] == 3
    assert definition["images"]["base_image"]["name"] == "quay.io/centos/centos:stream9"
    # The collection's own EE metadata stays: ansible-builder's introspection reads it from the installed collection.
    assert yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())["dependencies"] == {
        "python": "requirements.txt"}


def test_context_holds_the_collection_tarball_and_its_requirements(context: Path):
    build = context / "_build"
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy == {"collections": [{"name": "collections/clore-ai.tar.gz", "type": "file"}]}
    tarball = build / "collections" / "clore-ai.tar.gz"
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
        names = tar.getnames()
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("clore", "ai", galaxy_version())
    assert "plugins/inventory/clore.py" in names and "meta/execution-environment.yml" in names
    assert not [name for name in names if name.startswith(("build/", ".venv/", "tests/output/"))]
    # Every Python requirement of the collection, and ssh for reaching the rented containers.
    assert set(requirements(REPO / "requirements.txt")) <= set(requirements(build / "requirements.txt"))
    assert "openssh-clients [platform:rpm]" in requirements(build / "bindep.txt")


def test_containerfile_installs_them_and_checks_they_work(context: Path):
    text = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in text
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2\.19,<2\.20 ansible-runner"', text)
    assert re.search(r"^RUN .*ansible-galaxy collection install .*-r requirements\.yml", text, re.M)
    assert "COPY _build /build" in text  # the tarball and requirements.yml, where the galaxy install reads them
    assert "COPY _build/requirements.txt requirements.txt" in text
    assert "COPY _build/bindep.txt bindep.txt" in text
    assert "RUN ansible-doc -t inventory clore.ai.clore >/dev/null && $PYCMD -c 'import requests'" in text
    assert "ENV CLORE_STATE_DIR=/var/lib/clore.ai" in text
    assert text.index("ansible-doc -t inventory clore.ai.clore") > text.index("FROM base AS final")


def test_galaxy_build_ignores_the_build_contexts():
    ignored = yaml.safe_load((REPO / "galaxy.yml").read_text())["build_ignore"]
    # `make ee-context` writes under build/; ansible-builder run by hand writes ./context.
    assert {"build", "context", "extensions/ee/context"} <= set(ignored)


def container_engine() -> str | None:
    """podman or docker, when its engine answers."""
    for engine in ("podman", "docker"):
        if shutil.which(engine) and subprocess.run([engine, "info"], capture_output=True, timeout=60,
                                                   check=False).returncode == 0:
            return engine
    return None


@pytest.mark.slow
def test_image_builds_and_has_the_collection(context: Path):
    engine = container_engine()
    if engine is None:
        pytest.skip("no container engine (podman, or docker with a running daemon): the image is not built")
    tag = f"clore-ai-ee-test:{uuid.uuid4().hex[:12]}"
    try:
        build = subprocess.run([engine, "build", "-f", str(context / "Containerfile"), "-t", tag, str(context)],
                               capture_output=True, text=True, timeout=3600, check=False)
        assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
        doc = subprocess.run([engine, "run", "--rm", tag, "ansible-doc", "clore.ai.clore_order"],
                             capture_output=True, text=True, timeout=300, check=False)
        assert doc.returncode == 0 and "CLORE_API_KEY" in doc.stdout, doc.stderr
    finally:
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, timeout=300, check=False)
