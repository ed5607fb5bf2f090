# shellcheck shell=bash
# A gate of `make test` or `make test-latest`: run it, then report it (sourced, not run; needs scripts/lib/cpu.sh).
# BASE is the gate's files without their suffix, for example build/test-logs/sanity.
#
# run_gate BASE COMMAND...
#   runs COMMAND with its output in BASE.log, its CPU time in BASE.times (`timed`) and "<exit status> <seconds>" in
#   BASE.rc; returns COMMAND's status.
# report_gate BASE TITLE [shown]
#   prints "==> TITLE: ok (<seconds> s, <cpu> CPU s)"; for a gate that failed (or left no BASE.rc), its output in full
#   (not when `shown`: it was shown as it ran) and "==> TITLE: FAILED (...)". Returns 1 when the gate failed.

run_gate() {
  local base=$1 start=$SECONDS rc=0
  shift
  timed "$base.times" "$@" >"$base.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >"$base.rc"
  return "$rc"
}

report_gate() {
  local base=$1 title=$2 shown=${3:-} status seconds cpu
  read -r status seconds 2>/dev/null <"$base.rc" || { status=missing; seconds=0; }
  cpu=$(cpu_seconds "$base.times")
  seconds="$seconds s${cpu:+, $cpu CPU s}"
  if [ "$status" = 0 ]; then
    echo "==> $title: ok ($seconds)"
    return 0
  fi
  if [ "$shown" != shown ]; then
    echo "==> $title: output"
    cat "$base.log"
  fi
  echo "==> $title: FAILED ($seconds)"
  return 1
}
