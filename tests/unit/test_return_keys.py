"""No module returns a key that Ansible reads for itself.

Ansible treats some result keys as its own: a module that returns `skipped: [...]` has its task shown as skipped,
counted skipped instead of changed, and its handlers not notified. Every module's RETURN is parsed and each
top-level key checked against the keys (and prefixes) Ansible reserves.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

MODULES = Path(__file__).resolve().parents[2] / "plugins" / "modules"

# Keys whose meaning Ansible fixes (task status, loops, module plumbing, facts, callbacks).
RESERVED = frozenset({
    "changed", "failed", "skipped", "unreachable", "msg", "results", "rc", "stdout", "stderr", "stdout_lines",
    "stderr_lines", "invocation", "ansible_facts", "warnings", "deprecations", "exception", "module_stdout",
    "module_stderr", "item", "backup_file", "attempts", "retries", "diff", "censored", "skip_reason",
    "skipped_reason", "false_condition", "failed_when_result", "changed_when_result", "ansible_loop_var",
    "ansible_index_var", "checksum", "module_args",
})
RESERVED_PREFIXES = ("_ansible_", "ansible_")
# Returned with exactly the meaning Ansible gives them: the task's message, and the --diff before/after.
OWN_MEANING = frozenset({"msg", "diff"})


def module_paths() -> list[Path]:
    return sorted(p for p in MODULES.glob("*.py") if p.name != "__init__.py")


def return_keys(path: Path) -> list[str]:
    """The top-level keys of a module's RETURN documentation (a YAML string assigned at module level)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            documented = yaml.safe_load(ast.literal_eval(node.value))
            return list(documented or {})
    raise AssertionError(f"{path.name} has no RETURN")


def test_every_module_is_checked():
    assert {p.stem for p in module_paths()} >= {"clore_order", "clore_order_info", "clore_market_info",
                                                "clore_wallet_info"}


@pytest.mark.parametrize("path", module_paths(), ids=lambda p: p.stem)
def test_no_return_key_is_reserved_by_ansible(path: Path):
    keys = return_keys(path)
    assert keys, f"{path.name} documents no return value"
    clashing = [key for key in keys if key not in OWN_MEANING
                and (key in RESERVED or key.startswith(RESERVED_PREFIXES))]
    assert clashing == [], f"{path.name} returns keys Ansible reserves: {clashing}"


def test_fields_of_an_api_error_never_take_a_reserved_key():
    from ansible_collections.clore.ai.plugins.module_utils.errors import extra_fields

    answer = {key: 1 for key in RESERVED} | {"_ansible_no_log": False, "ansible_host": "x", "min_price": 0.5}
    assert extra_fields(answer) == {"min_price": 0.5}
