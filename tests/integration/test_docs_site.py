"""`make docs` as a reader meets it: the site builds offline, and headless Chromium renders its pages.

scripts/docs.sh builds the site once for the test session (the workers share it, under a lock); each page is read from
the DOM Chromium rendered (`chromium --headless --dump-dom`), links followed as a reader would.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from .conftest import COLLECTIONS_PATH
from .playbook import base_env

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


class Page(HTMLParser):
    """What a reader sees of one rendered page: its title, its first heading, its links, its option names."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.h1 = ""
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.option_titles: list[str] = []  # the options of the option tables, in order
        self._open: list[tuple[str, str, list[str]]] = []  # (tag, href, text) of each element being read
        self._option_tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "table" and "ansible-option-table" in attr.get("class", "").split():
            self._option_tables += 1
        option_title = tag == "p" and attr.get("class") == "ansible-option-title" and self._option_tables
        if tag in ("title", "h1", "a") or option_title:
            self._open.append((tag, attr.get("href", ""), []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._option_tables:
            self._option_tables -= 1
        if not self._open or self._open[-1][0] != tag:
            return
        _tag, href, chunks = self._open.pop()
        text = " ".join("".join(chunks).split())
        if tag == "title":
            self.title = text
        elif tag == "h1" and not self.h1:
            # without the heading's link mark (an icon-font character, or the pilcrow)
            self.h1 = "".join(c for c in text if unicodedata.category(c) != "Co").rstrip("¶ ")
        elif tag == "a":
            self.links.append((href, text))
        elif tag == "p":
            self.option_titles.append(text)

    def handle_data(self, data: str) -> None:
        for element in self._open:  # a heading's text includes that of the links inside it
            element[2].append(data)


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is missing: make bootstrap installs it (Debian's chromium package)"
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per test session: the first worker to get here builds it under a lock that the others
    wait on (pytest-xdist may spread this module's tests over several workers, and a build costs a minute of CPU)."""
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") \
        else tmp_path_factory.getbasetemp()
    out = shared / "docs-site"
    with open(shared / "docs-site.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = out / "built"
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            env = dict(os.environ, DOCS_DIR=str(out), VENV=sys.prefix)
            run = subprocess.run([str(REPO / "scripts" / "docs.sh")], env=env, capture_output=True, text=True,
                                 timeout=600, check=False)
            assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
            done.write_text("ok\n", encoding="utf-8")
    return out / "html"


@pytest.fixture(scope="module")
def render(site: Path, tmp_path_factory: pytest.TempPathFactory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    pages: dict[str, Page] = {}

    def rendered(url: str) -> Page:
        if url in pages:
            return pages[url]
        dom = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=True).stdout
        page = pages[url] = Page()
        page.feed(dom)
        return page

    return rendered


def _extra_docs() -> list[dict]:
    sections = yaml.safe_load((DOCS / "docsite" / "extra-docs.yml").read_text())["sections"]
    return [entry for section in sections for entry in section["toctree"]]


def _first_heading(guide: Path) -> str:
    """The title of a guide as the site shows it: its first line, without Markdown's marks."""
    return guide.read_text().splitlines()[0].lstrip("# ").replace("`", "")


def test_every_guide_of_docs_is_in_the_site_index():
    listed = sorted(entry["ref"] for entry in _extra_docs())
    assert listed == sorted(path.stem for path in DOCS.glob("*.md"))


def test_the_index_renders_and_links_every_module_plugin_role_and_guide(site, render):
    page = render((site / "index.html").as_uri())
    assert page.title.startswith("Clore.Ai"), page.title
    hrefs = {link[0] for link in page.links}
    expected = {f"{path.stem}_module.html" for path in (REPO / "plugins" / "modules").glob("clore_*.py")}
    expected |= {f"{path.stem}_filter.html" for path in (REPO / "plugins" / "filter").glob("*.py")}
    expected |= {f"{path.name}_role.html" for path in (REPO / "roles").iterdir() if (path / "meta").is_dir()}
    expected |= {"clore_inventory.html"} | {f"docsite/{entry['ref']}.html" for entry in _extra_docs()}
    assert expected - hrefs == set()


def test_the_clore_order_page_renders_its_option_table(site, render, tmp_path):
    page = render((site / "clore_order_module.html").as_uri())
    assert page.title.startswith("clore.ai.clore_order module"), page.title
    doc = subprocess.run([str(Path(sys.prefix) / "bin" / "ansible-doc"), "--json", "clore.ai.clore_order"],
                         capture_output=True, text=True, timeout=120, check=True,
                         env=base_env(COLLECTIONS_PATH, tmp_path)).stdout
    options = json.loads(doc)["clore.ai.clore_order"]["doc"]["options"]
    assert set(options) - set(page.option_titles) == set()  # every option, the connection options' included
    assert page.option_titles.count("gpu_model") == 1


def test_a_guide_is_reached_from_the_index_and_its_links_to_other_guides_resolve(site, render):
    index_url = (site / "index.html").as_uri()
    index = render(index_url)
    text_of = {text: href for href, text in index.links}
    guide_url = urljoin(index_url, text_of["Renting and cancelling"])
    guide = render(guide_url)
    assert guide.h1 == _first_heading(DOCS / "order.md")
    # docs/order.md links to money.md and to a heading of market.md: in the site they are pages and anchors.
    targets = {urlparse(urljoin(guide_url, href)).path.rsplit("/", 1)[-1] for href, _text in guide.links}
    assert {"money.html", "market.html", "spot.html"} <= targets
    money = render(urljoin(guide_url, "money.html"))
    assert money.h1 == _first_heading(DOCS / "money.md")
