#!/usr/bin/env bash
# `make docs`: the collection's docsite in build/docs/html (open build/docs/html/index.html). antsibull-docs writes
# the reStructuredText of every module, plugin, filter and role (their DOCUMENTATION and argument specs) and the
# collection's index with the guides of docs/docsite/extra-docs.yml; the guides themselves are docs/*.md, copied
# beside it; Sphinx renders the whole (SPHINX_SETTINGS). It needs no network: the only warnings allowed
# are those of being offline (OFFLINE_WARNINGS, matched by their exact text); any other warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
BIN=$VENV/bin
export PATH=$BIN:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$VENV/collections}
OUT=${DOCS_DIR:-$ROOT/build/docs}
SITE=docs/docsite
LABEL=ansible_collections.clore.ai.docsite

# The warnings of an offline build, exactly as Sphinx prints them after "WARNING: " (the file and line before it
# vary): references into Ansible's own docs, which only its intersphinx inventory online would resolve.
OFFLINE_WARNINGS=(
  "undefined label: 'common_return_values' [ref.ref]"
  "undefined label: 'ansible_configuration_settings' [ref.ref]"
  "'envvar' reference target not found: ANSIBLE_CACHE_PLUGIN [ref.envvar]"
  "'envvar' reference target not found: ANSIBLE_CACHE_PLUGIN_CONNECTION [ref.envvar]"
  "'envvar' reference target not found: ANSIBLE_CACHE_PLUGIN_PREFIX [ref.envvar]"
  "'envvar' reference target not found: ANSIBLE_CACHE_PLUGIN_TIMEOUT [ref.envvar]"
)

# Sphinx and its theme (antsibull-docs comes with the virtualenv: requirements-dev.txt), installed once per version
# of the list.
stamp=$VENV/.docs-stamp
want=$(sha256sum "$SITE/requirements.txt" | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "docs: installing Sphinx and its theme into $VENV"
  # shellcheck source=scripts/lib/pip.sh
  . "$ROOT/scripts/lib/pip.sh"
  venv_install "$VENV" --requirement="$SITE/requirements.txt"
  echo "$want" > "$stamp"
fi
command -v antsibull-docs >/dev/null || { echo "docs: antsibull-docs is missing: run make bootstrap" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/rst"
chmod og-w "$OUT/rst"  # antsibull-docs writes only into a directory no one else can write to

echo "docs: generating the reStructuredText of clore.ai (antsibull-docs)"
antsibull-docs --config-file "$SITE/antsibull-docs.cfg" collection --use-current --squash-hierarchy \
  --fail-on-error --cleanup everything --dest-dir "$OUT/rst" clore.ai

# The guides: each docs/<name>.md as docsite/<name>.md, opened by the label antsibull-docs' index links to. A link to a
# role's README goes to the role's page of the site.
mkdir -p "$OUT/rst/docsite"
for page in docs/*.md; do
  name=$(basename "$page" .md)
  { printf '(%s.%s)=\n\n' "$LABEL" "$name"
    sed -E 's#\]\(\.\./roles/([a-z_]+)/README\.md\)#](project:../\1_role.rst)#g' "$page"; } >"$OUT/rst/docsite/$name.md"
done

# Sphinx's settings (no conf.py: a Python file in the collection would be one more for ansible-test sanity).
# myst_parser reads the guides as they are; myst_heading_anchors resolves their links to a heading
# (order.md#host-keys). No intersphinx: the build never goes online.
SPHINX_SETTINGS=(
  -D project=clore.ai -D "copyright=clore.ai contributors" -D "html_title=clore.ai collection documentation"
  -D "extensions=sphinx_antsibull_ext,myst_parser" -D myst_heading_anchors=4
  -D html_theme=sphinx_ansible_theme -D pygments_style=ansible -D highlight_language=YAML+Jinja -D default_role=any
  -D html_show_sphinx=0 -D html_copy_source=0 -D html_use_index=0 -n
)
echo "docs: building the site (Sphinx)"
: >"$OUT/warnings.log"
rc=0
# Its warnings go to warnings.log (read below), the rest of its chatter to sphinx.log.
sphinx-build -q -b html -C "${SPHINX_SETTINGS[@]}" -w "$OUT/warnings.log" "$OUT/rst" "$OUT/html" 2>"$OUT/sphinx.log" || rc=$?
# Every warning but the expected ones fails the build, with the Sphinx run's own failure.
unexpected=$("$BIN/python" - "$OUT/warnings.log" "${OFFLINE_WARNINGS[@]}" <<'PY'
import re, sys
path, *allowed = sys.argv[1:]
for line in open(path, encoding="utf-8").read().splitlines():
    text = re.sub(r"^.*?WARNING: ", "", line).strip()
    if text and text not in allowed:
        print(line)
PY
)
if [ -n "$unexpected" ] || [ "$rc" -ne 0 ]; then
  echo "docs: FAILED: Sphinx warnings beyond those of being offline (rc $rc):" >&2
  printf '%s\n' "$unexpected" >&2
  [ "$rc" -eq 0 ] || cat "$OUT/sphinx.log" >&2
  exit 1
fi
echo "docs: the site is in ${OUT#"$ROOT"/}/html (index.html)"
