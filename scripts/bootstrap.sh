#!/usr/bin/env bash
# Prepare this machine for the demo and the tests: Debian packages, the virtualenv, and the collection on the
# collections path. Safe to run again: each step is skipped when already done.
# BOOTSTRAP_SET=demo (`make demo`) prepares only what the demo needs: requirements-demo.txt (ansible-core) instead of
# the development tools, and no shellcheck; a virtualenv made for development has all of it already.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
# The interpreter of a new virtualenv: PYTHON when set; else the distribution's /usr/bin/python3 when it is 3.11 or
# newer and can make a virtualenv (or can be given venv: as root, python3-venv is installed below); else python3 on
# PATH. Debian and Ubuntu build theirs with profile-guided and link-time optimisation: Ansible's runs took 3 to 11 %
# fewer CPU seconds on it than on a source build of the same series without (docs/testing.md). A virtualenv that
# exists keeps the interpreter it was made with.
default_python() {
  local distro=/usr/bin/python3
  if "$distro" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 &&
    { "$distro" -c 'import venv, ensurepip' >/dev/null 2>&1 || [ "$(id -u)" = 0 ]; }; then
    echo "$distro"
  else
    echo python3
  fi
}
PYTHON=${PYTHON:-$(default_python)}
SET=${BOOTSTRAP_SET:-dev}
case $SET in
  dev | demo) ;;
  *) echo "bootstrap: BOOTSTRAP_SET is dev (the default) or demo, not '$SET'" >&2; exit 2 ;;
esac
# The pip requirement files of this virtualenv: the default lane's (requirements-dev.txt includes
# requirements-demo.txt); the latest lane (scripts/test-latest.sh) passes requirements-latest.txt instead.
DEV_REQUIREMENTS=(requirements.txt requirements-demo.txt requirements-dev.txt)
DEMO_REQUIREMENTS=(requirements.txt requirements-demo.txt)
if [ -n "${REQUIREMENTS:-}" ]; then
  read -r -a REQUIREMENTS <<<"$REQUIREMENTS"
elif [ "$SET" = dev ]; then
  REQUIREMENTS=("${DEV_REQUIREMENTS[@]}")
else
  REQUIREMENTS=("${DEMO_REQUIREMENTS[@]}")
fi

need_apt=()
command -v /usr/sbin/sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
[ "$SET" = demo ] || command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)  # scripts/test.sh lints the scripts
# Headless Chromium opens the built docsite in tests/integration/test_docs_site.py.
[ "$SET" = demo ] || command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
"$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# ansible-rulebook (extensions/eda/rulebooks/) runs its rules engine on a Java 17 or later.
java_home() {  # the home of the first Java 17+ found: JAVA_HOME's, the one on PATH, then Debian's
  local candidate version
  local on_path
  on_path=$(command -v java 2>/dev/null) && on_path=$(dirname "$(dirname "$(readlink -f "$on_path")")")
  for candidate in "${JAVA_HOME:-}" "$on_path" /usr/lib/jvm/java-17-openjdk-*; do
    [ -x "${candidate:-/nonexistent}/bin/java" ] || continue
    version=$("$candidate/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [ "${version:-0}" -ge 17 ] && { echo "$candidate"; return 0; }
  done
  return 1
}
[ "$SET" = demo ] || java_home >/dev/null || need_apt+=(openjdk-17-jre-headless)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: missing Debian packages: ${need_apt[*]}; run as root or install them: apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  # shellcheck source=scripts/lib/apt.sh
  . "$ROOT/scripts/lib/apt.sh"
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

stamp=$VENV/.bootstrap-stamp
digest() { cat "$@" tests/simulator/pyproject.toml | sha256sum | cut -c1-16; }
want=$(digest "${REQUIREMENTS[@]}")
have=$(cat "$stamp" 2>/dev/null || true)
# The demo's set is part of the development set: a virtualenv made for development serves the demo as it is.
if [ "$SET" = demo ] && [ "$have" = "$(digest "${DEV_REQUIREMENTS[@]}")" ]; then
  want=$have
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating virtualenv $VENV with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$have" != "$want" ]; then
  echo "bootstrap: installing Python packages into $VENV with ${BOOTSTRAP_INSTALLER:-uv}"
  # shellcheck source=scripts/lib/pip.sh
  . "$ROOT/scripts/lib/pip.sh"
  venv_install "$VENV" "${REQUIREMENTS[@]/#/--requirement=}"
  # clore-sim from this checkout as a plain path entry (compat mode), not the import hook of a default editable
  # install, which every Python process of the venv would run at start-up (about 20 ms each; a test run starts
  # hundreds of module processes).
  venv_install "$VENV" -e tests/simulator --config-settings editable_mode=compat
  echo "$want" > "$stamp"
fi

# ansible-rulebook finds its Java through JAVA_HOME and runs ansible-galaxy from PATH (the virtualenv's bin, which
# activate puts first): the activate script sets JAVA_HOME too (tests/integration/eda/ sets both the same way).
if [ "$SET" = dev ] && JAVA_HOME=$(java_home) &&
  ! grep -qx "export JAVA_HOME=\"$JAVA_HOME\"" "$VENV/bin/activate"; then  # none yet, or another Java's
  sed -i '/^# clore.ai: the Java 17+ of ansible-rulebook$/d; /^export JAVA_HOME=/d' "$VENV/bin/activate"
  printf '# clore.ai: the Java 17+ of ansible-rulebook\nexport JAVA_HOME="%s"\n' "$JAVA_HOME" >> "$VENV/bin/activate"
fi

# The collection on the collections path: a link back to this checkout, so edits take effect at once.
coll=$VENV/collections/ansible_collections/clore
mkdir -p "$coll"
[ "$(readlink "$coll/ai" 2>/dev/null)" = "$ROOT" ] || ln -sfn "$ROOT" "$coll/ai"
# `. .venv/bin/activate` then gives a shell with ansible, clore-sim and this collection ready to use.
grep -q ANSIBLE_COLLECTIONS_PATH "$VENV/bin/activate" ||
  printf '\n# clore.ai: this checkout on the collections path\nexport ANSIBLE_COLLECTIONS_PATH="%s"\n' \
    "$VENV/collections" >> "$VENV/bin/activate"

# ansible-test fetches its pip bootstrap script from a host this machine may not reach: use the offline stand-in.
getpip=${CLORE_GET_PIP:-$ROOT/../shared/ci/ansible-test-get-pip.py}
if [ "$SET" = dev ] && [ -f "$getpip" ]; then
  pipver=$("$VENV/bin/python" - <<'PY'
import sys
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version=f"{sys.version_info[0]}.{sys.version_info[1]}"))["pip"])
PY
) || pipver=24.2
  mkdir -p "$HOME/.ansible/test/cache"
  # Copied under another name, then renamed: the other lane's ansible-test may be reading it.
  cp "$getpip" "$HOME/.ansible/test/cache/.get_pip_${pipver//./_}.py.$$"
  mv -f "$HOME/.ansible/test/cache/.get_pip_${pipver//./_}.py.$$" "$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py"
fi

# Bytecode for the simulator and the collection's plugins: where PYTHONDONTWRITEBYTECODE is set (as on many CI
# machines), every clore-sim start and every Ansible run would otherwise compile them from source again.
"$VENV/bin/python" -m compileall -q -j 0 tests/simulator/clore_sim plugins tests/integration >/dev/null
