"""The supported ansible-core is stated once, in meta/runtime.yml (`requires_ansible`, what ansible-galaxy and
Automation Hub read); every other statement of it follows that one:

- requirements-dev.txt installs the oldest supported series for the default lane (>=X.Y,<X.(Y+1)), and
  requirements-latest.txt one newer series for the latest lane: together, the tested series;
- the roles' min_ansible_version is the oldest series;
- the README and docs name the tested series, and only those, wherever they name an ansible-core version;
- the ansible-core the tests run on is of a tested series.
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


def _requirement_lines(requirements_file: str) -> list[str]:
    """A requirements file's lines, those of the files it includes (-r other.txt) in their place."""
    lines = [line.split("#")[0].strip() for line in (REPO / requirements_file).read_text().splitlines()]
    return [item for line in lines
            for item in (_requirement_lines(line.removeprefix("-r").strip()) if line.startswith("-r ") else [line])]


def _pinned_series(requirements_file: str) -> str:
    """The one ansible-core series a requirements file installs (>=X.Y,<X.(Y+1))."""
    requirements = [Requirement(line) for line in _requirement_lines(requirements_file)
                    if line and not line.startswith("-")]
    core = [r for r in requirements if r.name == "ansible-core"]
    assert len(core) == 1, f"{requirements_file}: one ansible-core line"
    low = next((Version(s.version) for s in core[0].specifier if s.operator == ">="), None)
    assert low is not None, f"{requirements_file}: ansible-core needs a lower bound"
    wanted = SpecifierSet(f">={series(low)},<{low.major}.{low.minor + 1}")
    assert core[0].specifier == wanted, f"{requirements_file}: one series, ansible-core{wanted}"
    return series(low)


def _tested_series() -> list[str]:
    """The series the two lanes install: the oldest supported (default lane) and the latest."""
    return [_pinned_series("requirements-dev.txt"), _pinned_series("requirements-latest.txt")]


def test_dev_requirements_install_the_oldest_supported_series():
    assert _pinned_series("requirements-dev.txt") == series(supported_minimum())


def test_the_demo_installs_the_dev_series_and_no_development_tool():
    assert _pinned_series("requirements-demo.txt") == _pinned_series("requirements-dev.txt")
    names = {Requirement(line).name for line in _requirement_lines("requirements-demo.txt") if line}
    assert names == {"ansible-core", "cryptography"}, names


def test_latest_requirements_install_a_newer_series():
    oldest, latest = _tested_series()
    assert Version(latest) > Version(oldest), f"the latest lane's {latest} is not newer than {oldest}"


def test_readme_and_docs_name_the_tested_series():
    tested = set(_tested_series())
    named: dict[str, list[str]] = {}
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for found in NAMED_VERSION.findall(path.read_text()):
            named.setdefault(found, []).append(path.relative_to(REPO).as_posix())
    readme = {found for found, paths in named.items() if "README.md" in paths}
    assert tested <= readme, f"README.md names {sorted(readme)}; the tested series are {sorted(tested)}"
    assert set(named) <= tested, f"ansible-core versions named: {named}; the tested series are {sorted(tested)}"


def test_the_tests_run_on_a_tested_series():
    assert series(Version(ansible_core_version)) in _tested_series(), ansible_core_version


def test_roles_ask_for_the_supported_series():
    minimum = series(supported_minimum())
    for meta in sorted((REPO / "roles").glob("*/meta/main.yml")):
        stated = str(yaml.safe_load(meta.read_text())["galaxy_info"]["min_ansible_version"])
        assert stated == minimum, f"{meta.relative_to(REPO)}: min_ansible_version {stated}, meta/runtime.yml {minimum}"
