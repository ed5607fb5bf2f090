"""What module_utils reads of an AnsibleModule (params, check_mode, _diff, warn, fail_json), for unit tests of a
module's run(module, client) without Ansible's argument parsing."""
from __future__ import annotations

from typing import Any


class ModuleFailed(Exception):
    """fail_json was called; `result` holds its keyword arguments."""

    def __init__(self, result: dict) -> None:
        super().__init__(result.get("msg"))
        self.result = result


class FakeModule:
    def __init__(self, params: dict[str, Any], *, check_mode: bool = False, diff: bool = False) -> None:
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def fail_json(self, **result: Any) -> None:
        raise ModuleFailed(result)
