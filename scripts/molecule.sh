#!/usr/bin/env bash
# `make molecule` (and `make test`): the molecule scenario in extensions/molecule/default against a clore-sim of its
# own, started here and stopped on exit whatever happens. Offline: no galaxy download, the collection is already on
# ANSIBLE_COLLECTIONS_PATH. Arguments go to `molecule test` (default: the default scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
export PATH=$BIN:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.venv/collections}

STATE=$(mktemp -d "${TMPDIR:-/tmp}/clore-molecule.XXXXXX")
# ssh's control sockets: a short path (a socket path has at most 107 bytes, too few under a deep TMPDIR).
SSH_CONTROL_DIR=$(mktemp -d /tmp/clore-cp.XXXXXX)
API_KEY=clore-molecule-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
# shellcheck source=scripts/lib/clore-sim.sh
. "$ROOT/scripts/lib/clore-sim.sh"
trap 'sim_stop; rm -rf "$STATE" "$SSH_CONTROL_DIR"' EXIT
trap 'exit 130' INT TERM

# No rate limits or delays: molecule is about the roles, not about the API's pace.
sim_start "$STATE" "$API_KEY" --request-interval 0 --create-interval 0 --listing-lag 0 --provisioning-delay 0
API_URL=$SIM_API_URL

mkdir -p "$STATE/ssh"
ssh-keygen -q -t ed25519 -N '' -C clore-molecule -f "$STATE/ssh/id_ed25519"

export CLORE_API_URL=$API_URL CLORE_API_KEY=$API_KEY CLORE_STATE_DIR=$STATE/controller
export CLORE_API_REQUEST_INTERVAL=0 CLORE_API_CREATE_INTERVAL=0
export MOLECULE_CLORE_SSH_KEY=$STATE/ssh/id_ed25519
export ANSIBLE_LOCAL_TEMP=$STATE/ansible-tmp
# Molecule's working files (instance state, fetched job results) stay inside this run.
export MOLECULE_EPHEMERAL_DIRECTORY=$STATE/molecule
# Ansible's and molecule's home (caches, temporary files) and ssh's control sockets too: nothing of this run
# outlives it.
export ANSIBLE_HOME=$STATE/ansible-home ANSIBLE_SSH_CONTROL_PATH_DIR=$SSH_CONTROL_DIR
rc=0
"$BIN/molecule" test "${@:---scenario-name=default}" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "molecule: FAILED (rc $rc); clore-sim's log:" >&2
  tail -n 30 "$STATE/clore-sim.log" >&2 || true
fi
exit "$rc"
