#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection placed at .../ansible_collections/clore/ai, as ansible-test requires.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# SANITY_VENV / SANITY_BUILD / SANITY_PYTHON: the latest lane (scripts/test-latest.sh) runs its ansible-test on a
# copy of its own, beside the default lane's.
VENV=${SANITY_VENV:-$ROOT/.venv}
BUILD=${SANITY_BUILD:-$ROOT/build}
TREE=$BUILD/ansible_collections/clore/ai
mkdir -p "$TREE"
# Tracked files and new files not ignored: what a commit would hold.
git ls-files -z --cached --others --exclude-standard \
  | rsync -a --delete --from0 --files-from=- ./ "$TREE/"
# rsync --delete with --files-from keeps stale files: remove what is not in the list.
(cd "$TREE" && find . -type f -not -path './tests/output/*' -printf '%P\n' | sort) > "$BUILD/.sanity-have"
git ls-files --cached --others --exclude-standard | sort > "$BUILD/.sanity-want"
comm -23 "$BUILD/.sanity-have" "$BUILD/.sanity-want" | while read -r stale; do rm -f "$TREE/$stale"; done
cd "$TREE"
git init -q . 2>/dev/null || true
git add -A >/dev/null 2>&1 || true
exec "$VENV/bin/ansible-test" sanity --venv --python "${SANITY_PYTHON:-3.11}" --color no "$@"
