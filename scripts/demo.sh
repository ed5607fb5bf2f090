#!/usr/bin/env bash
# `make demo`: start clore-sim in the background with a seeded market and the real API's rate limits, run
# playbooks/demo.yml against it (search, rent a spot and an on-demand GPU server, configure them, run a job, fetch
# the results, print a summary, release everything), print clore-sim's counters, and stop clore-sim. Nothing is
# left running, whatever happens (trap on EXIT); every run starts from a fresh simulator, so a second run does the same.
# Nothing is left outside the checkout either: the simulator, the controller's state (CLORE_STATE_DIR), Ansible's
# home and ssh's control sockets live in temporary directories removed on exit; only the results and the SSH key stay.
#
# Knobs (environment): DEMO_SIM_PORT (0 = a free port), DEMO_SEED (7), DEMO_SERVERS (200), DEMO_LISTING_LAG (2 s),
# DEMO_PROVISIONING_DELAY (3 s), DEMO_REQUEST_INTERVAL (1.0 s), DEMO_CREATE_INTERVAL (5.0 s),
# DEMO_RATE_TOLERANCE (clore-sim's slack on those intervals, 0.02 s; the test suite gives more on a loaded machine),
# DEMO_RESULTS_DIR (./demo-results), DEMO_SSH_KEY (.sim-state/demo-ssh/id_ed25519, created when missing),
# DEMO_VENV (the virtualenv to run, .venv; the latest lane's test passes .venv-latest).
# Extra arguments go to ansible-playbook (for example -v).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${DEMO_VENV:-$ROOT/.venv}
BIN=$VENV/bin
export PATH=$BIN:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$VENV/collections}

SIM_PORT=${DEMO_SIM_PORT:-0}
RESULTS=${DEMO_RESULTS_DIR:-$ROOT/demo-results}
SSH_KEY=${DEMO_SSH_KEY:-$ROOT/.sim-state/demo-ssh/id_ed25519}
STATE=$(mktemp -d "${TMPDIR:-/tmp}/clore-demo.XXXXXX")
# ssh's control sockets and Ansible's own temporary files: a short path (a socket path has at most 107 bytes, too few
# under a deep TMPDIR; ansible-core 2.21's controller opens a Unix socket of its own under TMPDIR).
SSH_CONTROL_DIR=$(mktemp -d /tmp/clore-cp.XXXXXX)
API_KEY=clore-demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
ADMIN_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
t0=$SECONDS

# shellcheck source=scripts/lib/clore-sim.sh
. "$ROOT/scripts/lib/clore-sim.sh"
trap 'sim_stop; rm -rf "$STATE" "$SSH_CONTROL_DIR"' EXIT
trap 'exit 130' INT TERM

# A fresh results directory: what is in it after the run comes from this run.
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

if [ ! -f "$SSH_KEY" ]; then
  echo "demo: creating an SSH key for the rented servers: $SSH_KEY"
  mkdir -p "$(dirname "$SSH_KEY")"
  ssh-keygen -q -t ed25519 -N '' -C clore-demo -f "$SSH_KEY"
fi

echo "demo: starting clore-sim (seed ${DEMO_SEED:-7}, ${DEMO_SERVERS:-200} servers, limits" \
  "${DEMO_REQUEST_INTERVAL:-1.0} s per request / ${DEMO_CREATE_INTERVAL:-5.0} s per create)"
sim_start "$STATE" "$API_KEY" --admin-token "$ADMIN_TOKEN" \
  --seed "${DEMO_SEED:-7}" --servers "${DEMO_SERVERS:-200}" \
  --request-interval "${DEMO_REQUEST_INTERVAL:-1.0}" --create-interval "${DEMO_CREATE_INTERVAL:-5.0}" \
  --rate-tolerance "${DEMO_RATE_TOLERANCE:-0.02}" \
  --listing-lag "${DEMO_LISTING_LAG:-2}" --provisioning-delay "${DEMO_PROVISIONING_DELAY:-3}"
API_URL=$SIM_API_URL
echo "demo: clore-sim is at $API_URL"

rc=0
env CLORE_API_URL="$API_URL" CLORE_API_KEY="$API_KEY" CLORE_STATE_DIR="$STATE/controller" \
  ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_PIPELINING=true \
  ANSIBLE_HOST_KEY_CHECKING=true ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_LOCAL_TEMP="$STATE/ansible-tmp" \
  ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_LOCALHOST_WARNING=false \
  ANSIBLE_HOME="$STATE/ansible-home" ANSIBLE_SSH_CONTROL_PATH_DIR="$SSH_CONTROL_DIR" TMPDIR="$SSH_CONTROL_DIR" \
  "$BIN/ansible-playbook" playbooks/demo.yml \
  -e "demo_ssh_private_key_file=$SSH_KEY" -e "demo_results_dir=$RESULTS" "$@" || rc=$?

# clore-sim's own account of the run: every API call it served, 429s, orders created and still active.
"$BIN/python" - "$API_URL" "$ADMIN_TOKEN" "$API_KEY" "$RESULTS/sim-counters.json" <<'PY' || { [ "$rc" -ne 0 ] || rc=1; }
import json, sys, urllib.request

api_url, token, key, out = sys.argv[1:5]
def admin(path):
    request = urllib.request.Request(api_url[: -len("/v1")] + "/_sim/" + path, headers={"X-Clore-Sim-Admin": token})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)

counters = admin("counters")
active = [o["id"] for o in admin("orders")["orders"] if o.get("ended_at") is None]
summary = {
    "requests": sum(counters["requests"].values()),
    "requests_by_endpoint": counters["requests"],
    "rate_limited": counters["rate_limited"],
    "orders_created": counters["orders_created"],
    "orders_cancelled": counters["orders_cancelled"],
    "orders_active": active,
}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(summary, handle, indent=2)
by_endpoint = ", ".join(f"{name} {n}" for name, n in sorted(counters["requests"].items()))
print(f"clore-sim counters: {summary['requests']} API requests ({by_endpoint}); 429s served: "
      f"{summary['rate_limited']}; orders created: {summary['orders_created']}, cancelled: "
      f"{summary['orders_cancelled']}, still active: {len(active)}")
sys.exit(0 if summary["rate_limited"] == 0 and not active else 1)
PY

sim_stop
if [ "$rc" -eq 0 ]; then
  echo "demo: done in $((SECONDS - t0)) s; clore-sim stopped; results in $RESULTS"
else
  echo "demo: FAILED (rc $rc) after $((SECONDS - t0)) s; clore-sim stopped; clore-sim's log:" >&2
  tail -n 30 "$STATE/clore-sim.log" >&2 || true
fi
exit "$rc"
