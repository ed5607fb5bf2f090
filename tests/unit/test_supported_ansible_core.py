"""The supported ansible-core is stated once, in meta/runtime.yml (`requires_ansible`, what ansible-galaxy and
Automation Hub read); every other statement of it follows that one:

- requirements-dev.txt installs the oldest supported series for the tests (>=X.Y,<X.(Y+1));
- the README and docs name that series wherever they name an ansible-core version;
- the ansible-core the tests run on is of that series.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from ansible.release import __version__ as ansible_core_version
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
# "ansible-core 2.19", "ansible-core is 2.19", "ansible-core >= 2.19", across a line break too.
NAMED_VERSION = re.compile(r"ansible-core(?:\s+is|\s+version)?\s*(?:>=\s*)?(\d+\.\d+)")


def supported_minimum() -> Version:
    """The lower bound of meta/runtime.yml's requires_ansible, which must be just that: ">=X.Y.Z"."""
    stated = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]
    specifiers = list(SpecifierSet(stated))
    assert len(specifiers) == 1 and specifiers[0].operator == ">=", \
        f"requires_ansible {stated!r}: state the oldest supported ansible-core only, as '>=X.Y.0'"
    return Version(specifiers[0].version)


def series(version: Version) -> str:
    return f"{version.major}.{version.minor}"


def test_requires_ansible_names_a_release_series():
    minimum = supported_minimum()
    assert minimum.micro == 0 and not minimum.is_prerelease, minimum


def test_dev_requirements_install_the_oldest_supported_series():
    minimum = supported_minimum()
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements-dev.txt").read_text().splitlines()]
    requirements = [Requirement(line) for line in lines if line and not line.startswith("-")]
    core = [r for r in requirements if r.name == "ansible-core"]
    assert len(core) == 1, "requirements-dev.txt: one ansible-core line"
    wanted = SpecifierSet(f">={series(minimum)},<{minimum.major}.{minimum.minor + 1}")
    assert core[0].specifier == wanted, f"requirements-dev.txt: ansible-core{wanted} (from meta/runtime.yml)"


def test_readme_and_docs_name_the_same_series():
    minimum = series(supported_minimum())
    named = {}
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for found in NAMED_VERSION.findall(path.read_text()):
            named.setdefault(found, []).append(path.relative_to(REPO).as_posix())
    assert minimum in named, f"README.md names no ansible-core {minimum} (the series meta/runtime.yml requires)"
    assert set(named) == {minimum}, f"ansible-core versions named: {named}; meta/runtime.yml says {minimum}"


def test_the_tests_run_on_the_supported_series():
    assert series(Version(ansible_core_version)) == series(supported_minimum()), ansible_core_version


def test_roles_ask_for_the_supported_series():
    minimum = series(supported_minimum())
    for meta in sorted((REPO / "roles").glob("*/meta/main.yml")):
        stated = str(yaml.safe_load(meta.read_text())["galaxy_info"]["min_ansible_version"])
        assert stated == minimum, f"{meta.relative_to(REPO)}: min_ansible_version {stated}, meta/runtime.yml {minimum}"
