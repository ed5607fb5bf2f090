# shellcheck shell=bash
# Installing Python packages into this checkout's virtualenvs (sourced, not run): scripts/bootstrap.sh (.venv and
# .venv-latest) and scripts/docs.sh (the docsite's Sphinx).
#
# venv_install VENV ARGS...
#   `pip install ARGS` into VENV, done by uv: it resolves and installs the development set in about 6 s where pip
#   takes about 30, which a fresh machine's `make test` waits for before its first test. uv comes from PyPI into VENV
#   itself (pip install uv, about 1 s). uv reads its own settings (UV_INDEX_URL, UV_EXTRA_INDEX_URL, ...), not pip's:
#   BOOTSTRAP_INSTALLER=pip installs with pip alone, and pip takes over when uv cannot be had or fails.

venv_pip_install() {
  local venv=$1
  shift
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@"
}

venv_install() {
  local venv=$1
  case ${BOOTSTRAP_INSTALLER:-uv} in
    pip) venv_pip_install "$@"; return ;;
    uv) ;;
    *) echo "BOOTSTRAP_INSTALLER is uv (the default) or pip, not '$BOOTSTRAP_INSTALLER'" >&2; return 2 ;;
  esac
  shift
  # --compile-bytecode: like pip, so that no process of the tests compiles the packages at its start. TMPDIR: a
  # directory of its own, removed after, since uv leaves the lock file of its setuptools builds in the temporary one.
  local scratch rc=1
  scratch=$(mktemp -d)
  if [ -x "$venv/bin/uv" ] || venv_pip_install "$venv" uv; then
    TMPDIR=$scratch "$venv/bin/uv" pip install -q --python "$venv/bin/python" --compile-bytecode "$@" && rc=0
  fi
  rm -rf "$scratch"
  [ "$rc" != 0 ] || return 0
  echo "uv could not install the packages (its output is above): installing them with pip" >&2
  venv_pip_install "$venv" "$@"
}
