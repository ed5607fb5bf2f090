"""What a newcomer reads first agrees with itself: versions the collection states, and the README's tables."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]


def _galaxy_version() -> Version:
    return Version(yaml.safe_load((REPO / "galaxy.yml").read_text())["version"])


def _versions_added(node: object) -> list[str]:
    """Every version_added in a plugin's DOCUMENTATION, its options' included."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "version_added":
                found.append(str(value))
            else:
                found.extend(_versions_added(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_versions_added(item))
    return found


def _documentation(path: Path) -> dict:
    match = re.search(r'^DOCUMENTATION\s*=\s*r?"""(.*?)"""', path.read_text(), re.S | re.M)
    assert match, f"{path.relative_to(REPO)}: no DOCUMENTATION"
    return yaml.safe_load(match.group(1))


def test_no_plugin_says_it_was_added_in_a_later_version_than_the_collection():
    released = _galaxy_version()
    later = {}
    for path in sorted((REPO / "plugins").glob("*/*.py")):
        if path.parent.name in ("module_utils", "doc_fragments") or path.name == "__init__.py":
            continue
        for version in _versions_added(_documentation(path)):
            if Version(version) > released:
                later.setdefault(path.relative_to(REPO).as_posix(), []).append(version)
    assert not later, f"version_added later than galaxy.yml's {released}: {later}"


def test_readme_tables_are_not_cut_by_blank_lines():
    """A blank line inside a Markdown table ends it: Galaxy shows the rest as raw '|' text."""
    lines = (REPO / "README.md").read_text().splitlines()
    for number, line in enumerate(lines[2:], start=2):
        starts_a_table = number + 1 < len(lines) and re.match(r"^\|[-:| ]+\|$", lines[number + 1])
        if line.startswith("|") and not lines[number - 1].strip() and lines[number - 2].startswith("|") \
                and not starts_a_table:
            raise AssertionError(f"README.md line {number + 1}: a table row after a blank line (the table was cut)")
