#!/usr/bin/env bash
# A Python 3.12 or newer for the latest lane (.venv-latest, ansible-core 2.21): its path alone on stdout, what was done
# on stderr.
#
# One already on this machine is used when it runs and has what a virtualenv and Ansible need (ssl, sqlite3, venv,
# ensurepip): $CLORE_PYTHON_LATEST, the cache below, python3.13 / python3.12 on PATH, or a pyenv installation.
# Otherwise Python 3.13 is built from Debian's source package of the next release (`apt-get source` with a sources
# list and lists directory of its own under the build directory: nothing is added to the system's apt
# configuration), configured and made without PGO, and installed into the cache, outside the checkout, where later
# runs find it. About 4 minutes on two idle cores; the Debian packages the build needs are installed with apt-get.
#
#   scripts/python.sh            find or build
#   scripts/python.sh --build    build into the cache even if another Python would do
set -euo pipefail

CACHE=${CLORE_PYTHON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clore-ai/python3.13}
SUITE=${CLORE_PYTHON_SUITE:-trixie}
MIRROR=${CLORE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BUILD_DEPS=(build-essential dpkg-dev xz-utils libssl-dev zlib1g-dev libffi-dev libsqlite3-dev libbz2-dev liblzma-dev
  uuid-dev)

say() { echo "python.sh: $*" >&2; }

usable() {
  [ -n "$1" ] && [ -x "$1" ] && "$1" - >/dev/null 2>&1 <<'PY'
import sys
import ensurepip, sqlite3, ssl, venv  # noqa: F401  (what a virtualenv with pip and Ansible needs)
sys.exit(0 if sys.version_info >= (3, 12) else 1)
PY
}

find_existing() {
  local minor candidate
  if usable "${CLORE_PYTHON_LATEST:-}"; then echo "$CLORE_PYTHON_LATEST"; return 0; fi
  if usable "$CACHE/bin/python3.13"; then echo "$CACHE/bin/python3.13"; return 0; fi
  for minor in 13 12; do
    # pyenv's shims are on PATH but fail unless that version is selected: `usable` runs each candidate.
    for candidate in "$(command -v "python3.$minor" 2>/dev/null || true)" \
        "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3."$minor".*/bin/python3."$minor"; do
      if usable "$candidate"; then echo "$candidate"; return 0; fi
    done
  done
  return 1
}

install_build_deps() {
  local missing=() pkg
  for pkg in "${BUILD_DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "the build needs these Debian packages: ${missing[*]}; run as root or: apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing the Debian packages the build needs: ${missing[*]}"
  # shellcheck source=scripts/lib/apt.sh
  . "$(dirname "$0")/lib/apt.sh"
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

WORK=  # the build directory, removed on exit (a global: the EXIT trap runs after build() has returned)
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT

build() {
  local work apt_opts source jobs
  install_build_deps
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/clore-python-build.XXXXXX")
  work=$WORK
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb-src $MIRROR $SUITE main" >"$work/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  say "fetching Debian's source package python3.13 ($SUITE) into $work"
  apt-get "${apt_opts[@]}" -qq update
  (cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only python3.13 >/dev/null)
  source=$(find "$work" -maxdepth 1 -name 'python3.13_*.orig.tar.xz' | head -n 1)
  [ -n "$source" ] || { say "no python3.13 source tarball came with the package"; exit 1; }
  tar -xJf "$source" -C "$work"
  jobs=$(nproc 2>/dev/null || echo 2)
  say "building $(basename "$source" .orig.tar.xz) into $CACHE (configure, make -j$jobs; no PGO)"
  (
    cd "$work"/Python-3.13.*/
    ./configure --prefix="$CACHE" --with-ensurepip=install >"$work/configure.log" 2>&1 ||
      { tail -n 30 "$work/configure.log" >&2; exit 1; }
    make -j"$jobs" >"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log" >&2; exit 1; }
    rm -rf "$CACHE"
    make altinstall >"$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; exit 1; }
  )
  usable "$CACHE/bin/python3.13" || { say "the Python built in $CACHE lacks ssl, sqlite3 or venv"; exit 1; }
  say "Python $("$CACHE/bin/python3.13" -c 'import platform; print(platform.python_version())') is in $CACHE"
}

if [ "${1:-}" != "--build" ] && found=$(find_existing); then
  say "using $found ($("$found" -c 'import platform; print(platform.python_version())'))"
  echo "$found"
  exit 0
fi
start=$SECONDS
build
say "built in $((SECONDS - start)) s"
echo "$CACHE/bin/python3.13"
