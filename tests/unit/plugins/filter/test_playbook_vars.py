"""The playbook_vars filter: old names warn through Ansible's deprecation display; a clash is a filter error."""
from __future__ import annotations

from types import ModuleType

import pytest
from ansible.errors import AnsibleFilterError

RENAMED = {"clore_search_": "market_search_"}


@pytest.fixture
def playbook_vars_filter() -> ModuleType:
    # Imported when the test runs, not when it is collected: this directory is collected before
    # tests/unit/plugins/inventory/conftest.py installs Ansible's collection loader, and a collection package imported
    # without it leaves the loader unable to import the collection's other modules.
    from ansible_collections.clore.ai.plugins.filter import playbook_vars

    return playbook_vars


@pytest.fixture
def deprecations(monkeypatch: pytest.MonkeyPatch, playbook_vars_filter: ModuleType) -> list[tuple[str, dict]]:
    shown: list[tuple[str, dict]] = []
    monkeypatch.setattr(playbook_vars_filter.Display, "deprecated",
                        lambda self, msg, **kwargs: shown.append((msg, kwargs)))
    return shown


def test_an_old_name_is_taken_with_a_deprecation_naming_the_new_one(playbook_vars_filter, deprecations):
    read = playbook_vars_filter.FilterModule().filters()["playbook_vars"]
    values = read({"clore_search_limit": 2}, RENAMED, {"market_search_limit": 10}, "market_search.yml")
    assert values == {"market_search_limit": 2}
    assert deprecations == [("market_search.yml: the variable clore_search_limit is now market_search_limit",
                             {"version": "0.3.0", "collection_name": "clore.ai"})]


def test_new_names_warn_nothing(playbook_vars_filter, deprecations):
    values = playbook_vars_filter.playbook_vars({"market_search_limit": 2}, RENAMED, {"market_search_limit": 10},
                                                "market_search.yml")
    assert values == {"market_search_limit": 2} and deprecations == []


def test_both_names_are_a_filter_error(playbook_vars_filter, deprecations):
    with pytest.raises(AnsibleFilterError, match="clore_search_limit and market_search_limit are both given"):
        playbook_vars_filter.playbook_vars({"clore_search_limit": 2, "market_search_limit": 3}, RENAMED, {},
                                           "market_search.yml")
    assert deprecations == []
