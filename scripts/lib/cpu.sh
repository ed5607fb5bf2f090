# shellcheck shell=bash
# The CPU seconds a gate of `make test` used, for its report line (sourced, not run).
#
# timed TIMES COMMAND...
#   runs COMMAND in a subshell of its own and writes bash's `times` there to TIMES: the user and system time of every
#   process it waited for (COMMAND and all it started, this command alone); returns COMMAND's status. Redirections
#   given to `timed` apply to COMMAND.
# cpu_seconds TIMES
#   prints the sum of those in whole seconds (nothing when TIMES is missing).

timed() {
  local times_file=$1
  shift
  (
    status=0
    "$@" || status=$?
    times >"$times_file"
    exit "$status"
  )
}

cpu_seconds() {
  # The second line of `times` is the children's: "1m2.345s 0m6.789s".
  tail -n 1 "$1" 2>/dev/null | awk '{
    total = 0
    for (i = 1; i <= 2; i++) { split($i, part, "m"); sub("s", "", part[2]); total += part[1] * 60 + part[2] }
    printf "%d\n", total + 0.5
  }'
}
