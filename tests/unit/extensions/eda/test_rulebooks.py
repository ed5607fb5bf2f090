"""The shipped rulebooks agree with what they call: each source exists and takes the arguments given to it, each
run_playbook names a shipped playbook and passes only variables that playbook declares in its spec, each condition
names event types the sources emit, and every rulebook is valid for ansible-rulebook's own schema."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
RULEBOOKS = sorted((REPO / "extensions" / "eda" / "rulebooks").glob("*.yml"))
SOURCES = REPO / "extensions" / "eda" / "plugins" / "event_source"
# The event types of each source (their DOCUMENTATION), and the errors they tell.
EVENT_TYPES = {"offer", "market_error", "order_created", "order_ready", "order_ended", "order_outbid",
               "spot_top_bid_changed", "spend_over", "ending_soon", "wallet_low", "orders_error"}


def source_options(name: str) -> set[str]:
    text = (SOURCES / f"{name}.py").read_text()
    documentation = re.search(r'DOCUMENTATION = r"""(.*?)"""', text, re.S)
    assert documentation, f"{name}.py has no DOCUMENTATION"
    return set(yaml.safe_load(documentation.group(1))["options"])


def spec_options(playbook: str) -> set[str]:
    return set(yaml.safe_load((REPO / "playbooks" / "specs" / f"{playbook}.yml").read_text())["options"])


def rules(path: Path) -> list[dict]:
    return [rule for ruleset in yaml.safe_load(path.read_text()) for rule in ruleset["rules"]]


def test_the_three_rulebooks_are_shipped():
    assert [p.name for p in RULEBOOKS] == ["auto_rent.yml", "keep_fleet.yml", "reap.yml"]


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.name)
def test_rulebook_is_valid_for_ansible_rulebook(path: Path):
    # The schema of the engine installed in the development virtualenv (requirements-dev.txt).
    engine = pytest.importorskip("ansible_rulebook")
    schema = json.loads((Path(engine.__file__).parent / "schema" / "ruleset_schema.json").read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.name)
def test_sources_exist_and_take_the_arguments_given(path: Path):
    for ruleset in yaml.safe_load(path.read_text()):
        for source in ruleset["sources"]:
            [(name, args)] = [(k, v) for k, v in source.items() if k != "name"]
            assert name.startswith("clore.ai."), name
            unknown = set(args) - source_options(name.removeprefix("clore.ai."))
            assert not unknown, f"{path.name}: {name} has no option {sorted(unknown)}"


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.name)
def test_playbooks_exist_and_take_the_variables_given(path: Path):
    for rule in rules(path):
        action = rule["action"].get("run_playbook")
        if action is None:
            continue
        playbook = action["name"].removeprefix("clore.ai.")
        assert (REPO / "playbooks" / f"{playbook}.yml").is_file(), action["name"]
        unknown = set(action.get("extra_vars", {})) - spec_options(playbook)
        assert not unknown, f"{path.name}: playbooks/{playbook}.yml declares no {sorted(unknown)}"


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.name)
def test_conditions_name_events_the_sources_emit(path: Path):
    for rule in rules(path):
        named = set(re.findall(r'"([a-z_]+)"', rule["condition"]))
        assert named and named <= EVENT_TYPES, f"{path.name}: {rule['name']}: {sorted(named - EVENT_TYPES)}"
