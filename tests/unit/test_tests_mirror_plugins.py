"""The unit tests mirror plugins/ as Ansible collections lay them out, so a plugin's tests are found by its path.

tests/unit/plugins/<kind>/[<package>/]test_<name>[_<aspect>].py tests plugins/<kind>/[<package>/]<name>.py; a file
testing several plugins sits beside the main one. Tests of extensions/ live under tests/unit/extensions/. The few
tests of the collection as a whole live at the top level, by name in TOP_LEVEL.
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "tests" / "unit"
TOP_LEVEL = {
    "test_bootstrap_java.py",  # scripts/bootstrap.sh finds or installs the Java of ansible-rulebook
    "test_bootstrap_installer.py",  # scripts/lib/pip.sh: uv installs the virtualenvs, pip takes over
    "test_architecture_doc.py",  # docs/architecture.md lists every file of plugins/
    "test_module_shape.py",  # every module is docs, spec and one call
    "test_docs_agree.py",  # README, galaxy.yml, changelog and roles agree
    "test_input_filters.py",  # the five input filter plugins, each a thin wrapper of module_utils/inputs.py
    "test_quiet_start.py",  # no deprecation warning on a normal run
    "test_return_keys.py",  # every module's RETURN
    "test_runs_without_simulator.py",  # the unit suite itself
    "test_supported_ansible_core.py",  # meta/runtime.yml against requirements and roles
    "test_task_loops.py",  # no task file of a role or playbooks/tasks includes itself
    "test_tests_mirror_plugins.py",  # this file
}


def misplaced(test: Path, repo: Path = REPO) -> str | None:
    """Why a unit test file (a path under tests/unit) is not in its mirror place, or None when it is."""
    parts = test.relative_to(repo / "tests" / "unit").parts
    if len(parts) == 1:
        return None if parts[0] in TOP_LEVEL else "at the top level but not in TOP_LEVEL"
    if parts[0] == "extensions":
        return None
    if parts[0] != "plugins" or len(parts) < 3:
        return "outside tests/unit/plugins/<kind>/"
    folder = repo.joinpath(*parts[:-1])
    name = test.stem.removeprefix("test_")
    if not folder.is_dir():
        return f"no folder {folder.relative_to(repo)}"
    if any(name == plugin.stem or name.startswith(plugin.stem + "_") for plugin in folder.glob("*.py")):
        return None
    return f"names no file of {folder.relative_to(repo)}/ (test_<file>[_<aspect>].py)"


def unit_tests(unit: Path = UNIT) -> list[Path]:
    return sorted(path for path in unit.rglob("test_*.py") if "__pycache__" not in path.parts)


def test_every_unit_test_is_in_its_mirror_place():
    wrong = {path.relative_to(REPO).as_posix(): why for path in unit_tests() if (why := misplaced(path))}
    assert not wrong, wrong


@pytest.mark.parametrize("place", [
    "plugins/module_utils/test_flat_order.py",
    "plugins/module_utils/test_client_rate_limit_spread.py",
    "plugins/module_utils/_order/test_args_spot.py",
    "plugins/modules/test_clore_order_info_rates.py",
    "plugins/inventory/test_clore_inventory.py",
    "extensions/test_awx_credential_type.py",
    "test_docs_agree.py",
])
def test_mirror_places_are_accepted(place):
    assert misplaced(UNIT / place) is None


@pytest.mark.parametrize("place, why", [
    ("module_utils/test_orders.py", "outside tests/unit/plugins/<kind>/"),
    ("plugins/test_orders.py", "outside tests/unit/plugins/<kind>/"),
    ("plugins/module_utils/test_fakes.py", "names no file of plugins/module_utils/"),
    ("plugins/module_utils/test_ordersx.py", "names no file of plugins/module_utils/"),
    ("plugins/modules/test_orders.py", "names no file of plugins/modules/"),
    ("plugins/module_utils/_nowhere/test_args.py", "no folder plugins/module_utils/_nowhere"),
    ("test_orders.py", "at the top level but not in TOP_LEVEL"),
])
def test_misplaced_files_are_named(place, why):
    assert why in (misplaced(UNIT / place) or "")
