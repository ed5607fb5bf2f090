#!/usr/bin/env bash
# `make test-latest` (and the latest lane of `make test`): ansible-core 2.21 on Python 3.12+, in .venv-latest.
# Its gates, one after the other, each run even when another failed: set-up (scripts/python.sh, then bootstrap with
# requirements-latest.txt), pytest (the unit tests, the integration smoke set and one demo), ansible-test sanity and
# ansible-lint. Output in build/test-logs/latest-<gate>.log; exits 1 when any gate failed.
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

# gate NAME TITLE COMMAND...: COMMAND's output in $LOGS/latest-NAME.log, shown in full when it fails; its wall and
# CPU seconds.
gate() {
  local name=$1 title=$2 start=$SECONDS rc=0 spent cpu
  shift 2
  timed "$LOGS/latest-$name.times" "$@" >"$LOGS/latest-$name.log" 2>&1 || rc=$?
  cpu=$(cpu_seconds "$LOGS/latest-$name.times")
  spent="$((SECONDS - start)) s${cpu:+, $cpu CPU s}"
  if [ "$rc" = 0 ]; then
    echo "==> latest lane, $title: ok ($spent)"
  else
    failed+=("$title")
    echo "==> latest lane, $title: output"
    cat "$LOGS/latest-$name.log"
    echo "==> latest lane, $title: FAILED ($spent)"
  fi
  return "$rc"
}

setup() {
  local python
  python=$(./scripts/python.sh) || return 1
  VENV=$VENV PYTHON=$python REQUIREMENTS="requirements.txt requirements-latest.txt" ./scripts/bootstrap.sh
}

tests() {
  "$VENV/bin/pytest" -n "$WORKERS" --dist loadgroup --basetemp "$TMP" -p no:cacheprovider tests/unit "${SMOKE[@]}"
}

sanity() {
  local version
  version=$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  SANITY_VENV=$VENV SANITY_BUILD=$ROOT/build/latest SANITY_PYTHON=$version ./scripts/sanity.sh
}

lint() {
  env HOME="$SCRATCH_HOME" LINT_VENV="$VENV" ANSIBLE_COLLECTIONS_PATH="$VENV/collections" ./scripts/lint.sh || return 1
  local left
  left=$(cd "$SCRATCH_HOME" && find . -mindepth 1 | sort)
  [ -z "$left" ] || { echo "ansible-lint wrote into HOME:"; echo "$left"; return 1; }
}

if gate setup "set-up (Python 3.12+, .venv-latest)" setup; then
  echo "==> latest lane: $("$VENV/bin/python" -c 'import platform
from ansible.release import __version__
print(f"ansible-core {__version__} on Python {platform.python_version()}")')"
  export PATH=$VENV/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$VENV/collections
  gate pytest "pytest (unit, smoke, demo)" tests
  grep -aE '^=+ .* in [0-9.]+s' "$LOGS/latest-pytest.log" | tail -n 1 | sed 's/^=* */==> latest lane, pytest: /; s/ *=*$//'
  gate sanity "ansible-test sanity" sanity
  gate lint "ansible-lint (production profile)" lint
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "make test-latest: failed: ${failed[*]} ($((SECONDS - t0)) s)"
  exit 1
fi
echo "make test-latest: every gate passed ($((SECONDS - t0)) s)"
