#!/usr/bin/env bash
# `make test`: every gate, each run even when another failed, each one's time printed; exits 1 when any failed.
#
# Two phases:
# 1. The tests that need the API's real rate limits (marker `slow`: the demo, and the tests that count 429s), alone on
#    the machine in one pytest session with TEST_SLOW_WORKERS workers (default 1: one after the other; with 2
#    the demo beside the xdist_group "real-rate-limits" loaded the CPU enough for a 429 to get through). They
#    assert that no request reaches the API sooner than its interval allows, with 70 ms of slack: CPU contention
#    from the other gates delays requests by more than that and turns them into 429s.
# 2. Side by side, since the tests mostly wait (rate limits, SSH, the simulator's delays): every other test in a pytest
#    session with TEST_WORKERS pytest-xdist workers (default 6), and ansible-test sanity, ansible-lint, the changelog
#    lint and molecule one after the other, at a lower CPU priority (TEST_LANE_NICE, default 5) than pytest.
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
SLOW_WORKERS=${TEST_SLOW_WORKERS:-1}
LOW=(nice -n "${TEST_LANE_NICE:-5}")
TESTS=(tests/unit tests/simulator/tests tests/integration tests/contract)
t0=$SECONDS

rm -rf "$LOGS" "$SCRATCH_HOME" "$TMP"
mkdir -p "$LOGS" "$SCRATCH_HOME" "$TMP"

# gate NAME COMMAND...: run COMMAND with its output in $LOGS/NAME.log; "<exit status> <seconds>" in $LOGS/NAME.rc.
gate() {
  local name=$1 start=$SECONDS rc=0
  shift
  "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >"$LOGS/$name.rc"
}

home_is_empty() {
  local left
  left=$(cd "$SCRATCH_HOME" && find . -mindepth 1 | sort)
  [ -z "$left" ] || { echo "ansible-lint or molecule wrote into HOME:"; echo "$left"; return 1; }
  echo "HOME untouched"
}

# Tests that need the real rate limits; exit status 5 (none selected) is no failure.
slow_tests() {
  local rc=0
  "$BIN/pytest" -p no:cacheprovider -n "$SLOW_WORKERS" --dist loadgroup --basetemp "$TMP/slow" -m slow \
    "${TESTS[@]}" || rc=$?
  [ "$rc" -eq 5 ] && rc=0
  return "$rc"
}

other_gates() {
  gate sanity "${LOW[@]}" ./scripts/sanity.sh
  gate ansible-lint env HOME="$SCRATCH_HOME" "${LOW[@]}" ./scripts/lint.sh
  gate changelog "${LOW[@]}" "$BIN/antsibull-changelog" lint
  if [ -d extensions/molecule ]; then
    gate molecule env HOME="$SCRATCH_HOME" "${LOW[@]}" ./scripts/molecule.sh
  fi
  gate home home_is_empty
}

echo "==> phase 1: pytest -m slow (real rate limits, the demo), alone"
gate pytest-slow slow_tests
cat "$LOGS/pytest-slow.log"

echo "==> phase 2: pytest with $WORKERS workers here; sanity, ansible-lint, changelog lint and molecule alongside" \
  "(logs in build/test-logs/)"
other_gates &
others_pid=$!
start=$SECONDS
"$BIN/pytest" -n "$WORKERS" --dist loadgroup --basetemp "$TMP/main" --durations=10 -m "not slow" "${TESTS[@]}" 2>&1 \
  | tee "$LOGS/pytest.log"
rc=${PIPESTATUS[0]}
echo "$rc $((SECONDS - start))" >"$LOGS/pytest.rc"
wait "$others_pid"

# The report: each gate's time, the output of those that failed.
failed=()
report() {
  local name=$1 title=$2 status seconds
  read -r status seconds <"$LOGS/$name.rc" 2>/dev/null || { status=missing; seconds=0; }
  if [ "$status" = 0 ]; then
    echo "==> $title: ok ($seconds s)"
  else
    failed+=("$title")
    case $name in
      pytest | pytest-slow) ;;  # shown as it ran
      *) echo "==> $title: output"; cat "$LOGS/$name.log" ;;
    esac
    echo "==> $title: FAILED ($seconds s)"
  fi
}
echo
report sanity "ansible-test sanity"
report ansible-lint "ansible-lint (production profile)"
report changelog "changelog fragments"
[ -d extensions/molecule ] && report molecule "molecule"
report home "nothing left in HOME by ansible-lint and molecule"
report pytest-slow "pytest -m slow (real rate limits, the demo), alone"
report pytest "pytest (unit, simulator, integration)"

# One closing line for both pytest sessions.
summary_counts() {
  local log total=0
  for log in "$LOGS/pytest.log" "$LOGS/pytest-slow.log"; do
    total=$((total + $(grep -aE '^=+ .* in [0-9.]+s' "$log" | tail -n 1 | grep -oE "[0-9]+ $1" | awk '{ n += $1 } END { print n + 0 }')))
  done
  echo "$total"
}
passed=$(summary_counts passed)
failures=$(( $(summary_counts failed) + $(summary_counts error) + $(summary_counts errors) ))
skipped=$(summary_counts skipped)
if [ ${#failed[@]} -gt 0 ]; then
  echo "make test: failed: ${failed[*]} ($((SECONDS - t0)) s)"
  echo "pytest: $passed passed, $failures failed, $skipped skipped"
  exit 1
fi
echo "make test: every gate passed ($((SECONDS - t0)) s)"
echo "pytest: $passed passed, $failures failed, $skipped skipped"
