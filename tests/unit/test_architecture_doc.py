"""docs/architecture.md is drawn from the code as it is: every file of plugins/ is listed in its tree, with a line
saying what it is, and nothing listed there is gone."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
# Lines indented this much or more continue the description of the line above.
CONTINUATION = 12


def documented(text: str) -> dict[str, str]:
    """{path below the tree's root: its description} from the doc's first code block (two spaces per level)."""
    block = text.split("```\n", 2)[1]
    found, folders = {}, []
    for line in block.splitlines():
        match = re.match(r"^( *)(\S+)\s*(.*)$", line)
        if not match or len(match.group(1)) >= CONTINUATION:
            continue
        depth, name, description = len(match.group(1)) // 2, match.group(2), match.group(3)
        folders = folders[:depth]
        if name.endswith("/"):
            folders.append(name)
        elif name.endswith(".py"):
            found["".join(folders) + name] = description
    return found


def actual() -> set[str]:
    return {str(path.relative_to(REPO)) for path in (REPO / "plugins").rglob("*.py")
            if path.name != "__init__.py" and "__pycache__" not in path.parts}


def test_every_plugins_file_is_listed_with_a_line_and_none_listed_is_gone():
    listed = documented(DOC.read_text())
    assert sorted(actual() - set(listed)) == [], "files of plugins/ missing from docs/architecture.md"
    assert sorted(set(listed) - actual()) == [], "docs/architecture.md lists files that do not exist"
    assert [path for path, description in listed.items() if not description] == []


def test_the_reader_sees_nesting_and_continuations():
    tree = "x\n```\nplugins/\n  module_utils/\n    a.py     one\n                 b.py wrapped text\n" \
           "    _p/       private:\n      c.py   two\n    d.py  three\n```\n"
    assert documented(tree) == {"plugins/module_utils/a.py": "one", "plugins/module_utils/_p/c.py": "two",
                                "plugins/module_utils/d.py": "three"}
