#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection placed at .../ansible_collections/clore/ai, as ansible-test requires.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TREE=$ROOT/build/ansible_collections/clore/ai
mkdir -p "$TREE"
# Tracked files and new files not ignored: what a commit would hold.
git ls-files -z --cached --others --exclude-standard \
  | rsync -a --delete --from0 --files-from=- ./ "$TREE/"
# rsync --delete with --files-from keeps stale files: remove what is not in the list.
(cd "$TREE" && find . -type f -not -path './tests/output/*' -printf '%P\n' | sort) > "$ROOT/build/.sanity-have"
git ls-files --cached --others --exclude-standard | sort > "$ROOT/build/.sanity-want"
comm -23 "$ROOT/build/.sanity-have" "$ROOT/build/.sanity-want" | while read -r stale; do rm -f "$TREE/$stale"; done
cd "$TREE"
git init -q . 2>/dev/null || true
git add -A >/dev/null 2>&1 || true
exec "$ROOT/.venv/bin/ansible-test" sanity --venv --python "${SANITY_PYTHON:-3.11}" --color no "$@"
