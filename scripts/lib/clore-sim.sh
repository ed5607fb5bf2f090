# shellcheck shell=bash
# Start and stop a clore-sim in the background, for scripts/demo.sh and scripts/molecule.sh (sourced, not run).
#
# sim_start STATE_DIR API_KEY [clore-sim flags ...]
#   starts .venv/bin/clore-sim on a free port of 127.0.0.1 with its state under STATE_DIR/sim, waits until it is
#   ready, and sets SIM_PID and SIM_API_URL; on failure prints its log and returns 1.
# sim_stop
#   SIGTERM (clore-sim then stops every order's sshd), SIGKILL if it is still there after 10 s.

SIM_PID=
export SIM_API_URL=

sim_start() {
  local state=$1 key=$2
  shift 2
  "$BIN/clore-sim" --host 127.0.0.1 --port "${SIM_PORT:-0}" --state-dir "$state/sim" --api-key "$key" \
    --ready-file "$state/ready.json" --quiet "$@" >"$state/clore-sim.log" 2>&1 &
  SIM_PID=$!
  local _try
  for _try in $(seq 1 300); do
    [ -s "$state/ready.json" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  SIM_API_URL=$("$BIN/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' \
    "$state/ready.json" 2>/dev/null) || {
    echo "clore-sim did not start; its log:" >&2
    cat "$state/clore-sim.log" >&2
    return 1
  }
}

sim_stop() {
  if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
    kill -TERM "$SIM_PID" 2>/dev/null || true
    local _try
    for _try in $(seq 1 100); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  SIM_PID=
}
