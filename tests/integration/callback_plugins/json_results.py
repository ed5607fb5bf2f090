"""A stdout callback that prints the whole run as one JSON document, for tests that read results as data.

ansible-core's own `ansible.builtin.json` is a redirect to ansible.posix, which is not installed here. The shape
follows that callback: {"plays": [{"play": {...}, "tasks": [{"task": {...}, "hosts": {host: result}}]}],
"stats": {host: {...}}}.
"""
from __future__ import annotations

import json

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: json_results
type: stdout
short_description: the whole run as one JSON document (tests only)
description: Prints every play, task and host result, then the stats, as one JSON document at the end.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "json_results"

    def __init__(self) -> None:
        super().__init__()
        self.plays: list[dict] = []

    @staticmethod
    def _name(task) -> str:
        """The task's own name, without the "<role> : " prefix, so that tests find role tasks by name."""
        return task.name or task.get_name()

    def _task(self, task, is_handler: bool = False) -> None:
        self.plays[-1]["tasks"].append(
            {"task": {"name": self._name(task), "id": str(task._uuid), "handler": is_handler}, "hosts": {}}
        )

    def v2_playbook_on_play_start(self, play) -> None:
        self.plays.append({"play": {"name": play.get_name(), "id": str(play._uuid)}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task) -> None:
        self._task(task, is_handler=True)

    def _record(self, result, **extra) -> None:
        host = result._host.get_name()
        data = dict(result._result)
        data.update(extra)
        task_name = self._name(result._task)
        tasks = self.plays[-1]["tasks"] if self.plays else []
        # A result belongs to the latest task of that name (includes run their tasks in between).
        for entry in reversed(tasks):
            if entry["task"]["id"] == str(result._task._uuid) or entry["task"]["name"] == task_name:
                entry["hosts"][host] = data
                return
        if self.plays:
            tasks.append({"task": {"name": task_name, "id": str(result._task._uuid)}, "hosts": {host: data}})

    def v2_runner_on_ok(self, result, **kwargs) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs) -> None:
        self._record(result, failed=True, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result, **kwargs) -> None:
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result, **kwargs) -> None:
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats) -> None:
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({"plays": self.plays, "stats": summary}, cls=AnsibleJSONEncoder, indent=1,
                                         sort_keys=True))
