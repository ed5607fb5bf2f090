#!/usr/bin/env bash
# The import contracts of .importlinter (docs/architecture.md's layering) on the collection and clore-sim.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The collection is importable as ansible_collections.clore.ai from the venv's collections path (a link to here).
export PYTHONPATH=$ROOT/.venv/collections${PYTHONPATH:+:$PYTHONPATH}
exec "$ROOT/.venv/bin/lint-imports" --no-cache .importlinter
