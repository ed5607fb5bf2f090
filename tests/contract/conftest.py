"""Contract tests: every recorded or documented answer shape in tests/contract/fixtures goes through the collection's
normalizers, modules and inventory and gives the documented result. Real rows are in fixtures/real (as the API
returned them), the variants clore-api.md lists in fixtures/documented."""
from __future__ import annotations

import json
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
COLLECTIONS = Path(sys.prefix) / "collections"  # the running virtualenv's (.venv or .venv-latest): a link to here
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())
