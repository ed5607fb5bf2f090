#!/usr/bin/env bash
# `make test`: every gate, each run even when another failed, each one's time printed; exits 1 when any failed.
# It prepares the machine itself (scripts/bootstrap.sh), while the latest lane prepares its own virtualenv beside it:
# pip installs on one core, and the other would be idle.
#
# Side by side, so that tests waiting on rate limits, SSH or the simulator's delays leave the CPU to the rest (the
# suite is CPU-bound overall: docs/testing.md): every test in one pytest
# session with TEST_WORKERS pytest-xdist workers (default 6), the long ones first (tests/conftest.py orders them),
# and the import contracts, ansible-test sanity, ansible-lint, the changelog lint and molecule one after the other
# next to it, at a lower CPU priority (TEST_LANE_NICE, default 5) until pytest is done. The tests that count 429s
# at the API's real rate limits give clore-sim the slack a loaded machine needs (tests/integration/real_limits.py).
# pytest's output shows as it runs; the other gates' output is in build/test-logs/<gate>.log and shows when everything
# has ended (in full for a gate that failed). The tests' temporary directories are under build/pytest-tmp/ (those of
# failed tests stay there until the next run). ansible-lint and molecule run with HOME pointed at an empty directory:
# whatever they would leave in a user's home fails the gate "nothing left in HOME".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BIN=$ROOT/.venv/bin
export PATH=$BIN:$PATH
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.venv/collections
LOGS=$ROOT/build/test-logs
TMP=$ROOT/build/pytest-tmp
SCRATCH_HOME=$ROOT/build/test-home
WORKERS=${TEST_WORKERS:-6}
TESTS=(tests/unit tests/simulator/tests tests/integration tests/contract)
t0=$SECONDS

rm -rf "$LOGS" "$SCRATCH_HOME" "$TMP"
mkdir -p "$LOGS" "$SCRATCH_HOME" "$TMP"

# shellcheck source=scripts/lib/cpu.sh
. "$ROOT/scripts/lib/cpu.sh"
# shellcheck source=scripts/lib/gate.sh
. "$ROOT/scripts/lib/gate.sh"

# gate NAME COMMAND...: run_gate with the files $LOGS/NAME.{log,times,rc}.
gate() {
  local name=$1
  shift
  run_gate "$LOGS/$name" "$@"
}

home_is_empty() {
  local left
  left=$(cd "$SCRATCH_HOME" && find . -mindepth 1 | sort)
  [ -z "$left" ] || { echo "ansible-lint or molecule wrote into HOME:"; echo "$left"; return 1; }
  echo "HOME untouched"
}

other_gates() {
  renice --priority "${TEST_LANE_NICE:-5}" -p "$BASHPID" >/dev/null
  gate imports ./scripts/imports.sh
  gate sanity ./scripts/sanity.sh
  gate ansible-lint env HOME="$SCRATCH_HOME" ./scripts/lint.sh
  gate changelog "$BIN/antsibull-changelog" lint
  if [ -d extensions/molecule ]; then
    gate molecule env HOME="$SCRATCH_HOME" ./scripts/molecule.sh
  fi
  gate home home_is_empty
}

# The latest lane (ansible-core 2.21, scripts/test-latest.sh) beside both, in a process group of its own too. Its
# set-up runs at the normal priority (when Python 3.13 must be built, the build is the longest chain of the run), its
# gates at the lane's lower one (LATEST_NICE). CLORE_LATEST_LANE=0 leaves it out (make test-latest runs it alone).
latest_lane() {
  gate latest env LATEST_LOGS="$LOGS" LATEST_NICE="${TEST_LANE_NICE:-5}" ./scripts/test-latest.sh
}
latest_pid=
if [ "${CLORE_LATEST_LANE:-1}" != 0 ]; then
  set -m
  latest_lane &
  latest_pid=$!
  set +m
fi

trap 'kill -TERM -- ${latest_pid:+"-$latest_pid"} 2>/dev/null; exit 130' INT TERM
if ! ./scripts/bootstrap.sh; then
  [ -z "$latest_pid" ] || kill -TERM -- "-$latest_pid" 2>/dev/null
  echo "make test: failed: the set-up (scripts/bootstrap.sh; its output is above)"
  exit 1
fi

echo "==> pytest with $WORKERS workers; import contracts, sanity, ansible-lint, changelog lint and molecule alongside" \
  "(logs in build/test-logs/)"
# The lane in a process group of its own, so that its priority can be raised once pytest is done (on a loaded
# machine it would otherwise crawl on at low priority after pytest) and so that it can be stopped with the script.
set -m
other_gates &
others_pid=$!
set +m
trap 'kill -TERM -- "-$others_pid" ${latest_pid:+"-$latest_pid"} 2>/dev/null; exit 130' INT TERM
start=$SECONDS
timed "$LOGS/pytest.times" "$BIN/pytest" -n "$WORKERS" --dist loadgroup --basetemp "$TMP/main" --durations=10 \
  "${TESTS[@]}" 2>&1 | tee "$LOGS/pytest.log"
rc=${PIPESTATUS[0]}
echo "$rc $((SECONDS - start))" >"$LOGS/pytest.rc"
# raising a priority needs root: else it stays low
renice --priority 0 -g "$others_pid" ${latest_pid:+"$latest_pid"} >/dev/null 2>&1 || true
wait "$others_pid"
[ -z "$latest_pid" ] || wait "$latest_pid"

# The report: each gate's time, the output of those that failed.
failed=()
report() {
  report_gate "$LOGS/$1" "$2" "${3:-}" || failed+=("$2")
}
echo
report imports "import contracts (lint-imports)"
report sanity "ansible-test sanity"
report ansible-lint "ansible-lint (production profile)"
report changelog "changelog fragments"
[ -d extensions/molecule ] && report molecule "molecule"
report home "nothing left in HOME by ansible-lint and molecule"
report pytest "pytest (unit, simulator, integration)" shown  # its output showed as it ran
if [ -n "$latest_pid" ]; then
  grep -a '^==> latest lane' "$LOGS/latest.log" | grep -v ': output$' || true
  report latest "the latest lane (ansible-core 2.21; build/test-logs/latest-*.log)"
fi

# pytest's counts, for the closing line.
summary_counts() {
  grep -aE '^=+ .* in [0-9.]+s' "$LOGS/pytest.log" | tail -n 1 | grep -oE "[0-9]+ $1" | awk '{ n += $1 } END { print n + 0 }'
}
passed=$(summary_counts passed)
failures=$(( $(summary_counts failed) + $(summary_counts error) + $(summary_counts errors) ))
skipped=$(summary_counts skipped)
times >"$LOGS/all.times"
spent="$((SECONDS - t0)) s, $(cpu_seconds "$LOGS/all.times") CPU s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "make test: failed: ${failed[*]} ($spent)"
  echo "pytest: $passed passed, $failures failed, $skipped skipped"
  exit 1
fi
echo "make test: every gate passed ($spent)"
echo "pytest: $passed passed, $failures failed, $skipped skipped"
