"""No task file of a role or of playbooks/tasks includes itself, directly or through others.

Ansible has no while loop, and a file that includes itself to repeat nests the play one level deeper each time:
ansible-core slows down at every level and fails with a RecursionError after a few hundred (about 20 minutes of a
managed job's 5 s rounds), ending the run without its release. Repeats are loops of includes instead
(roles/managed_job/tasks/watch.yml, roles/gpu_job/tasks/wait_checkpoints.yml).

Such a loop of includes over a range runs as a role of its own (include_role with tasks_from) and is stopped by a
`meta: end_role` in the file it repeats: the items left, laid out when each loop started, are then passed over by the
controller. Never by a `when` on the loop (judged once per item: thousands of skipped items per managed job attempt,
tens of CPU seconds), nor by an empty list for the loops left (one task each: 150 after a short job, 5 CPU s)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TASK_DIRS = sorted([*REPO.glob("roles/*/tasks"), REPO / "playbooks" / "tasks"])
INCLUDES = ("include_tasks", "import_tasks", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks")
INCLUDE_ROLE = ("include_role", "ansible.builtin.include_role")
META = ("meta", "ansible.builtin.meta")


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


def _ranged_targets(path: Path) -> set[Path]:
    """The task files `path` includes in a loop over a range (a repeat)."""
    found = set()
    for task in _tasks(yaml.safe_load(path.read_text())):
        loop = task.get("loop")
        if isinstance(loop, str) and "range(" in loop:
            found |= {target for key in INCLUDES if isinstance(task.get(key), str)
                      for target in [(path.parent / task[key]).resolve()]}
    return found


def _reachable(start: Path, graph: dict[Path, set[Path]]) -> set[Path]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _ends_role(path: Path) -> bool:
    return any(task.get(key) == "end_role" for task in _tasks(yaml.safe_load(path.read_text())) for key in META)


def _role_entries(tasks_dir: Path) -> set[str]:
    """The task files of this role that it runs as a role of its own (include_role of itself with tasks_from)."""
    role = tasks_dir.parent.name
    found = set()
    for path in tasks_dir.glob("*.yml"):
        for task in _tasks(yaml.safe_load(path.read_text())):
            for key in INCLUDE_ROLE:
                args = task.get(key)
                if isinstance(args, dict) and str(args.get("name", "")).rsplit(".", maxsplit=1)[-1] == role:
                    found.add(str(args.get("tasks_from", "")))
    return found


def unended_repeats(tasks_dir: Path) -> list[str]:
    """The repeats (nested loops of includes over ranges) of a role's task files that do not run as a role of their own
    ended by meta end_role."""
    paths = sorted(tasks_dir.glob("*.yml"))
    graph = {path.resolve(): _included(path) for path in paths}
    ranged = {path.resolve(): _ranged_targets(path) for path in paths}
    inner = set().union(*ranged.values()) if ranged else set()
    # Nested loops (a loop whose files loop again) are the long repeats; a single short loop, such as managed_job's
    # attempts (max_recoveries + 1), leaves at most a few skipped items.
    tops = [path for path, targets in ranged.items()
            if path not in inner and any(ranged.get(target) for target in targets)]
    problems = []
    for top in tops:
        if not any(_ends_role(path) for path in _reachable(top, graph)):
            problems.append(f"{top.name}: no meta end_role in the files it repeats")
        if top.name not in _role_entries(tasks_dir):
            problems.append(f"{top.name}: not run as a role of its own (include_role with tasks_from: {top.name})")
    return problems


@pytest.mark.parametrize("tasks_dir", sorted(REPO.glob("roles/*/tasks")), ids=lambda d: d.parent.name)
def test_a_repeat_runs_as_a_role_of_its_own_ended_by_end_role(tasks_dir: Path):
    assert unended_repeats(tasks_dir) == []


def test_the_repeats_are_found():
    tops = {tasks_dir.parent.name: [path.name for path in sorted(tasks_dir.glob("*.yml")) if _ranged_targets(path)]
            for tasks_dir in REPO.glob("roles/*/tasks")}  # every file with a ranged loop, nested or not
    assert "watch.yml" in tops["managed_job"] and "wait_checkpoints.yml" in tops["gpu_job"]


def test_the_check_finds_a_repeat_without_end_role(tmp_path: Path):
    tasks = tmp_path / "roles" / "job" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text("- name: Watch\n  ansible.builtin.include_tasks: watch.yml\n")
    (tasks / "watch.yml").write_text(
        "- name: Rounds\n  ansible.builtin.include_tasks: rounds.yml\n  loop: \"{{ range(50) | list }}\"\n")
    (tasks / "rounds.yml").write_text(
        "- name: Round\n  ansible.builtin.include_tasks: round.yml\n  loop: \"{{ range(50) | list }}\"\n")
    (tasks / "round.yml").write_text("- name: Look\n  ansible.builtin.debug:\n    msg: x\n")
    assert unended_repeats(tasks) == ["watch.yml: no meta end_role in the files it repeats",
                                      "watch.yml: not run as a role of its own (include_role with tasks_from: "
                                      "watch.yml)"]
    (tasks / "round.yml").write_text("- name: End\n  ansible.builtin.meta: end_role\n  when: done\n")
    (tasks / "main.yml").write_text(
        "- name: Watch\n  ansible.builtin.include_role:\n    name: ns.col.job\n    tasks_from: watch.yml\n")
    assert unended_repeats(tasks) == []
