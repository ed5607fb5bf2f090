#!/usr/bin/env bash
# `make test`: every gate, each run even when an earlier one failed, pytest last so its summary closes the output.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BIN=$PWD/.venv/bin
export PATH=$BIN:$PATH
export ANSIBLE_COLLECTIONS_PATH=$PWD/.venv/collections
failed=()

step() {
  local name=$1; shift
  echo "==> $name"
  local t0=$SECONDS
  if "$@"; then
    echo "==> $name: ok ($((SECONDS - t0)) s)"
  else
    echo "==> $name: FAILED ($((SECONDS - t0)) s)"
    failed+=("$name")
  fi
}

step "ansible-test sanity" ./scripts/sanity.sh
step "ansible-lint (production profile)" "$BIN/ansible-lint" --profile production
step "changelog fragments" "$BIN/antsibull-changelog" lint
[ -d extensions/molecule ] && step "molecule" ./scripts/molecule.sh
step "pytest (unit, simulator, integration)" "$BIN/pytest" tests/unit tests/simulator/tests tests/integration tests/contract

if [ ${#failed[@]} -gt 0 ]; then
  echo "make test: failed: ${failed[*]}"
  exit 1
fi
echo "make test: every gate passed"
