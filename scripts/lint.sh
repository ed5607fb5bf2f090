#!/usr/bin/env bash
# `make lint` (and `make test`): ansible-lint with the production profile and the `args` rule (module options
# checked against their spec) on the checkout. Offline (.ansible-lint): it installs no copy of the collection anywhere
# (the checkout is on ANSIBLE_COLLECTIONS_PATH) and asks no galaxy; the directories it keeps (ANSIBLE_HOME) stay in
# build/. Arguments go to ansible-lint (for example one file).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${LINT_VENV:-$ROOT/.venv}  # the latest lane (scripts/test-latest.sh) lints with its own
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$VENV/collections}
export ANSIBLE_HOME=$ROOT/build/ansible-home${LINT_VENV:+-$(basename "$VENV")}
# clore.ai modules require api_key, which comes from CLORE_API_KEY or module_defaults at run time; the `args` rule
# (module options checked against their spec, .ansible-lint) sees neither, so it gets a stand-in.
export CLORE_API_KEY=${CLORE_API_KEY:-lint-stand-in-api-key}
exec ansible-lint --profile production "$@"
