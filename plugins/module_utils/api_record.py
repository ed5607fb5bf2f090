"""Recorded API answers: written with every secret and the key removed, in the form clore-sim's --market-file and
the contract tests replay ({"recorded": "...", ...the answer...})."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.records import private_dir

REMOVED = "<removed>"
# Fields that may hold a secret or a private detail of the account, wherever they appear.
SECRET_FIELDS = frozenset({"ssh_password", "ssh_key", "jupyter_token", "env", "dockerhub_auth", "deposit", "auth",
                           "api_key", "password", "token"})


def scrub(value: Any, api_key: str) -> Any:
    """A copy of a decoded answer without secrets: SECRET_FIELDS replaced, the key replaced wherever it occurs."""
    if isinstance(value, dict):
        return {k: (REMOVED if k in SECRET_FIELDS and v not in (None, "") else scrub(v, api_key))
                for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item, api_key) for item in value]
    if isinstance(value, str) and api_key and api_key in value:
        return value.replace(api_key, "<api_key>")
    return value


def write_recording(directory: str, name: str, endpoint: str, answer: dict, api_key: str) -> str:
    """Write `<directory>/<name>.json` (mode 0600) and return its path."""
    folder = Path(directory).expanduser()
    private_dir(folder)
    path = folder / f"{name}.json"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data = {"recorded": f"{stamp}, GET /v1/{endpoint}, secrets removed", **scrub(answer, api_key)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)
    return str(path)
