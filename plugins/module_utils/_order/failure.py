"""How a clore_order task fails: with everything it did so far, and in words, never a traceback."""
from __future__ import annotations

from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreError


class OrderTaskFailed(CloreError):
    """The task failed; `result` is what it did before (created, cancelled, ...) so that nothing is lost."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result

    def to_result(self) -> dict[str, Any]:
        return self.result


def failure_text(err: Exception, sent: bool) -> str:
    """What failed, for a failure the task did not foresee (never a traceback); `sent`: a create had been sent."""
    if isinstance(err, CloreError):
        return str(err)
    if isinstance(err, OSError):  # the state dir: a full disk, a file that cannot be written
        where = f" ({err.filename})" if err.filename else ""
        if not sent:
            return (f"a file of the controller's state could not be used: {err.strerror or err}{where}; no "
                    "create_order was sent, nothing was rented by this run")
        return (f"a file of the controller's state could not be used after create_order was sent: "
                f"{err.strerror or err}{where}")
    return f"an unexpected error after create_order was sent ({type(err).__name__}: {err})"
