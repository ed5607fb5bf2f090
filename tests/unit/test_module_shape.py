"""Every module has one shape: its documentation (DOCUMENTATION, EXAMPLES, RETURN), its argument spec, and main()
making one call, run_module(spec, run), whose `run` comes from module_utils. Any other statement is logic that
belongs in module_utils (one concern per file), where the inventory and the tests can reuse it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted((REPO / "plugins" / "modules").glob("clore_*.py"))
DOCS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}
SPEC = "ARGUMENT_SPEC"
MODULE_UTILS = "ansible_collections.clore.ai.plugins.module_utils."
# What a module may import besides module_utils: the future import and Ansible's env_fallback for a spec.
OTHER_IMPORTS = {("__future__", "annotations"), ("ansible.module_utils.basic", "env_fallback"),
                 ("typing", "Any")}


def _imports(tree: ast.Module) -> dict[str, str]:
    """{name bound: module it comes from} of the module's imports."""
    bound = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                bound[alias.asname or alias.name] = node.module or ""
    return bound


def _computes(node: ast.AST) -> bool:
    """A lambda, or a call other than list() of a constant's values (choices=list(POLICIES))."""
    return isinstance(node, ast.Lambda) or (isinstance(node, ast.Call) and ast.unparse(node.func) != "list")


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"
            and [ast.unparse(n) for n in node.body] == ["main()"] and not node.orelse)


def _main_call(node: ast.FunctionDef) -> ast.Call | None:
    """The one call main() makes, or None when main() does anything else."""
    if len(node.body) != 1 or not isinstance(node.body[0], ast.Expr) or not isinstance(node.body[0].value, ast.Call):
        return None
    return node.body[0].value


def shape_faults(source: str) -> list[str]:
    """What in a module's source is not documentation, argument spec or the one call (empty: the module is thin)."""
    tree = ast.parse(source)
    bound = _imports(tree)
    faults = []
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module's docstring
        if isinstance(node, ast.ImportFrom):
            faults += [f"line {node.lineno}: imports {alias.name} from {node.module}" for alias in node.names
                       if not (node.module or "").startswith(MODULE_UTILS)
                       and (node.module, alias.name) not in OTHER_IMPORTS]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if not names <= DOCS | {SPEC} or len(names) != len(targets):
                faults.append(f"line {node.lineno}: assigns {ast.unparse(targets[0])}")
            elif names <= DOCS and not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                faults.append(f"line {node.lineno}: {names.pop()} is not a string")
            elif SPEC in names and any(_computes(n) for n in ast.walk(node.value)):
                faults.append(f"line {node.lineno}: the argument spec computes (a call or a lambda)")
        elif isinstance(node, ast.FunctionDef) and node.name == "main":
            call = _main_call(node)
            if call is None or ast.unparse(call.func) != "run_module":
                faults.append(f"line {node.lineno}: main() does more than call run_module(spec, run)")
            elif len(call.args) != 2 or not isinstance(call.args[1], ast.Name) \
                    or not bound.get(call.args[1].id, "").startswith(MODULE_UTILS):
                faults.append(f"line {node.lineno}: run_module's run is not imported from module_utils")
        elif not _is_main_guard(node):
            faults.append(f"line {node.lineno}: {type(node).__name__} {getattr(node, 'name', '')}".rstrip())
    return faults


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_a_module_is_documentation_spec_and_one_call(path):
    assert shape_faults(path.read_text()) == []


def test_a_module_holding_logic_is_told_apart():
    thin = 'DOCUMENTATION = "x"\nfrom ansible_collections.clore.ai.plugins.module_utils.common import run_module\n' \
           'from ansible_collections.clore.ai.plugins.module_utils.wallet_info import run_wallet_info\n' \
           'ARGUMENT_SPEC = {"currencies": {"type": "list"}}\n\n\ndef main():\n' \
           '    run_module(ARGUMENT_SPEC, run_wallet_info)\n\n\nif __name__ == "__main__":\n    main()\n'
    assert shape_faults(thin) == []
    helper = thin.replace("\n\ndef main", "\n\ndef run(module, client):\n    return {}\n\n\ndef main") \
        .replace("run_module(ARGUMENT_SPEC, run_wallet_info)", "run_module(ARGUMENT_SPEC, run)")
    assert shape_faults(helper) == ["line 7: FunctionDef run", "line 11: run_module's run is not imported from "
                                    "module_utils"]
    constant = thin.replace("ARGUMENT_SPEC =", "_FIELDS = (1, 2)\nARGUMENT_SPEC =")
    assert shape_faults(constant) == ["line 4: assigns _FIELDS"]
    computed = thin.replace('{"type": "list"}', '{"type": "list", "default": read_default()}')
    assert shape_faults(computed) == ["line 4: the argument spec computes (a call or a lambda)"]
    two_calls = thin.replace("    run_module(", "    print(1)\n    run_module(")
    assert shape_faults(two_calls) == ["line 7: main() does more than call run_module(spec, run)"]
