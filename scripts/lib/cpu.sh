# shellcheck shell=bash
# The CPU seconds a gate of `make test` used, for its report line (sourced, not run).
#
# In a subshell that ran a gate's command: `times >FILE` records the user and system time of every process it
# waited for (the command and all it started); cpu_seconds FILE prints their sum in whole seconds.

cpu_seconds() {
  # The second line of `times` is the children's: "1m2.345s 0m6.789s".
  tail -n 1 "$1" 2>/dev/null | awk '{
    total = 0
    for (i = 1; i <= 2; i++) { split($i, part, "m"); sub("s", "", part[2]); total += part[1] * 60 + part[2] }
    printf "%d\n", total + 0.5
  }'
}
