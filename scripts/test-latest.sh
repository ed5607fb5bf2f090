#!/usr/bin/env bash
# `make test-latest` (and the latest lane of `make test`): ansible-core 2.21 on Python 3.12+, in .venv-latest.
# First the set-up (scripts/python.sh, then bootstrap with requirements-latest.txt); then its three gates side by
# side, each run even when another failed: pytest (the unit tests, the integration smoke set and one demo),
# ansible-test sanity (of everything but tests/) and ansible-lint (sanity's pylint and ansible-lint each keep one core
# busy at most: one after the other, they left the second core idle at the end of a run). LATEST_NICE (make test sets
# it) lowers the gates' CPU priority, not the set-up's. Output in build/test-logs/latest-<gate>.log; exits 1 when any
# gate failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
VENV=$ROOT/.venv-latest
LOGS=${LATEST_LOGS:-$ROOT/build/test-logs}
TMP=$ROOT/build/pytest-tmp/latest
SCRATCH_HOME=$ROOT/build/test-home-latest
WORKERS=${LATEST_WORKERS:-3}
# The smoke set, what the lane must show and no more (the default lane runs every test): one rent -> inventory ->
# SSH -> release path that goes through the three roles (rent.yml: gpu_fleet; the clore.ai.clore inventory;
# configure.yml twice: gpu_host, the second run changing nothing; run_job.yml: gpu_job; cancel_order.yml; release.yml:
# gpu_fleet), and one demo (a spot and an on-demand order through the same three roles at the real rate limits).
SMOKE=(
  tests/integration/roles/test_playbooks.py::test_rent_configure_run_cancel_release
  tests/integration/test_demo.py
)
t0=$SECONDS
mkdir -p "$LOGS"
rm -rf "$TMP" "$SCRATCH_HOME"
mkdir -p "$TMP" "$SCRATCH_HOME"
failed=()

# shellcheck source=scripts/lib/cpu.sh
. "$ROOT/scripts/lib/cpu.sh"
# shellcheck source=scripts/lib/gate.sh
. "$ROOT/scripts/lib/gate.sh"

# gate NAME COMMAND...: run_gate with the files $LOGS/latest-NAME.{log,times,rc}.
gate() {
  local name=$1
  shift
  run_gate "$LOGS/latest-$name" "$@"
}

# report NAME TITLE: the gate's report line (and its output when it failed); returns 1 when it failed.
report() {
  report_gate "$LOGS/latest-$1" "latest lane, $2" || { failed+=("$2"); return 1; }
}

setup() {
  local python
  python=$(./scripts/python.sh) || return 1
  VENV=$VENV PYTHON=$python REQUIREMENTS="requirements.txt requirements-latest.txt" ./scripts/bootstrap.sh
}

tests() {
  "$VENV/bin/pytest" -n "$WORKERS" --dist loadgroup --basetemp "$TMP" -p no:cacheprovider tests/unit "${SMOKE[@]}"
}

# Sanity on everything but tests/: the collection's own content, which runs under ansible-core 2.21 where users
# install it. The test suite's code is checked by the default lane's sanity; here its pylint would double the gate
# (33 of 66 CPU s) for code this lane runs a part of.
sanity() {
  local version entry
  local targets=()
  version=$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  while read -r entry; do
    if [ -d "$entry" ]; then targets+=("$entry/"); else targets+=("$entry"); fi
  done < <(git ls-files --cached --others --exclude-standard | cut -d/ -f1 | sort -u | grep -vx tests)
  SANITY_VENV=$VENV SANITY_BUILD=$ROOT/build/latest SANITY_PYTHON=$version ./scripts/sanity.sh "${targets[@]}"
}

lint() {
  env HOME="$SCRATCH_HOME" LINT_VENV="$VENV" ANSIBLE_COLLECTIONS_PATH="$VENV/collections" ./scripts/lint.sh || return 1
  local left
  left=$(cd "$SCRATCH_HOME" && find . -mindepth 1 | sort)
  [ -z "$left" ] || { echo "ansible-lint wrote into HOME:"; echo "$left"; return 1; }
}

rm -f "$LOGS"/latest-*.rc
gate setup setup
if report setup "set-up (Python 3.12+, .venv-latest)"; then
  echo "==> latest lane: $("$VENV/bin/python" -c 'import platform
from ansible.release import __version__
print(f"ansible-core {__version__} on Python {platform.python_version()}")')"
  export PATH=$VENV/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$VENV/collections
  [ -z "${LATEST_NICE:-}" ] || renice --priority "$LATEST_NICE" -p $$ >/dev/null
  gate pytest tests &
  gate sanity sanity &
  gate lint lint &
  wait
  report pytest "pytest (unit, smoke, demo)" || true
  grep -aE '^=+ .* in [0-9.]+s' "$LOGS/latest-pytest.log" | tail -n 1 | sed 's/^=* */==> latest lane, pytest: /; s/ *=*$//'
  report sanity "ansible-test sanity" || true
  report lint "ansible-lint (production profile)" || true
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "make test-latest: failed: ${failed[*]} ($((SECONDS - t0)) s)"
  exit 1
fi
echo "make test-latest: every gate passed ($((SECONDS - t0)) s)"
