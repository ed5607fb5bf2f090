# shellcheck shell=bash
# apt-get for this checkout's scripts (sourced, not run).
#
# apt_get ARGS...
#   apt-get ARGS, non-interactive, one at a time: `make test` prepares its two lanes at once (scripts/bootstrap.sh for
#   .venv, scripts/python.sh and bootstrap.sh again for .venv-latest), and two apt-get runs side by side would fail on
#   each other's lock. Waits for the other one, and for any other holder of dpkg's lock, instead of failing.

apt_get() {
  DEBIAN_FRONTEND=noninteractive flock /var/lock/clore-ai-apt.lock \
    apt-get -o DPkg::Lock::Timeout=600 "$@"
}
