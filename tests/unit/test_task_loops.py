"""No task file of a role or of playbooks/tasks includes itself, directly or through others.

Ansible has no while loop, and a file that includes itself to repeat nests the play one level deeper each time:
ansible-core slows down at every level and fails with a RecursionError after a few hundred (about 20 minutes of a
managed job's 5 s rounds), ending the run without its release. Repeats are loops of includes instead
(roles/managed_job/tasks/watch.yml, roles/gpu_job/tasks/wait_checkpoints.yml).

Such a loop of includes over a range stops by an empty list, never by a `when`: a `when` is judged once per item, and
the items left once a job stops ran to thousands of skipped items per managed job attempt (tens of CPU seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TASK_DIRS = sorted([*REPO.glob("roles/*/tasks"), REPO / "playbooks" / "tasks"])
INCLUDES = ("include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks")


def _tasks(items: list | None):
    for task in items or []:
        if not isinstance(task, dict):
            continue
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def _included(path: Path) -> set[Path]:
    """The task files `path` includes by a literal name (a templated name is not followed)."""
    found = set()
    for task in _tasks(yaml.safe_load(path.read_text())):
        for key in INCLUDES:
            target = task.get(key)
            if isinstance(target, dict):
                target = target.get("file")
            if isinstance(target, str) and "{{" not in target:
                found.add((path.parent / target).resolve())
    return found


def _cycle_from(start: Path, graph: dict[Path, set[Path]]) -> list[Path] | None:
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return trail + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, trail + [nxt]))
    return None


@pytest.mark.parametrize("tasks_dir", TASK_DIRS, ids=lambda d: str(d.relative_to(REPO)))
def test_no_task_file_includes_itself(tasks_dir: Path):
    graph = {path.resolve(): _included(path) for path in tasks_dir.glob("*.yml")}
    cycles = [_cycle_from(path, graph) for path in graph]
    named = [" -> ".join(p.name for p in cycle) for cycle in cycles if cycle]
    assert not named, f"task files that include themselves (use a loop of includes instead): {named}"


def test_the_check_finds_a_file_that_includes_itself(tmp_path: Path):
    (tmp_path / "a.yml").write_text("- name: again\n  ansible.builtin.include_tasks: b.yml\n")
    (tmp_path / "b.yml").write_text("- name: on\n  block:\n    - ansible.builtin.include_tasks: a.yml\n")
    graph = {path.resolve(): _included(path) for path in tmp_path.glob("*.yml")}
    assert [p.name for p in _cycle_from((tmp_path / "a.yml").resolve(), graph)] == ["a.yml", "b.yml", "a.yml"]


def _ranged_includes_with_when(path: Path) -> list[str]:
    """The include tasks of `path` looped over a range that carry a `when`."""
    found = []
    for task in _tasks(yaml.safe_load(path.read_text())):
        loop = task.get("loop")
        if any(key in task for key in INCLUDES) and isinstance(loop, str) and "range(" in loop and "when" in task:
            found.append(f"{path.name}: {task.get('name', '?')}")
    return found


@pytest.mark.parametrize("tasks_dir", TASK_DIRS, ids=lambda d: str(d.relative_to(REPO)))
def test_a_loop_of_includes_over_a_range_stops_by_an_empty_list(tasks_dir: Path):
    named = [hit for path in sorted(tasks_dir.glob("*.yml")) for hit in _ranged_includes_with_when(path)]
    assert not named, f"looped includes with a per-item `when` (make the loop's list empty instead): {named}"


def test_the_check_finds_a_ranged_include_with_when(tmp_path: Path):
    (tmp_path / "a.yml").write_text(
        "- name: Watch on\n  ansible.builtin.include_tasks: b.yml\n  loop: \"{{ range(50) | list }}\"\n  when: going\n")
    assert _ranged_includes_with_when(tmp_path / "a.yml") == ["a.yml: Watch on"]
