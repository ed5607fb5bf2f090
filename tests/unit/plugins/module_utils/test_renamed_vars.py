"""renamed_vars.py: playbook variables under their old names, read under the new ones."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.renamed_vars import new_name, playbook_vars

WATCH = {"watch_": "watch_and_rent_"}
CANCEL = {"order_id": "cancel_order_id", "issue": "cancel_order_issue"}


@pytest.mark.parametrize(("name", "renamed", "new"), [
    ("clore_search_gpu", {"clore_search_": "market_search_"}, "market_search_gpu"),
    ("watch_timeout", WATCH, "watch_and_rent_timeout"),
    ("watch_and_rent_timeout", WATCH, None),  # the new name under the old prefix is not renamed again
    ("order_id", CANCEL, "cancel_order_id"),
    ("order_ids", CANCEL, None),  # a whole name, not a prefix
    ("market_search_gpu", {"clore_search_": "market_search_"}, None),
])
def test_new_name(name, renamed, new):
    assert new_name(name, renamed) == new


def test_defaults_then_old_names_then_new_names():
    values, old = playbook_vars({"watch_timeout": 0, "watch_and_rent_gpu": ["A100"], "other": 1}, WATCH,
                                {"watch_and_rent_timeout": 3600, "watch_and_rent_gpu": ["RTX 4090"],
                                 "watch_and_rent_rent": True}, "watch_and_rent.yml")
    assert values == {"watch_and_rent_timeout": 0, "watch_and_rent_gpu": ["A100"], "watch_and_rent_rent": True,
                      "other": 1}
    assert old == [("watch_timeout", "watch_and_rent_timeout")]


def test_no_old_name_no_deprecation():
    values, old = playbook_vars({"cancel_order_id": 5}, CANCEL, {"cancel_order_issue": ""}, "cancel_order.yml")
    assert (values, old) == ({"cancel_order_id": 5, "cancel_order_issue": ""}, [])


def test_an_old_name_and_its_new_one_are_refused_naming_both():
    with pytest.raises(CloreConfigError, match=r"^cancel_order\.yml: order_id and cancel_order_id are both given; "
                                               r"order_id is the old name of cancel_order_id: give only "
                                               r"cancel_order_id$") as caught:
        playbook_vars({"order_id": 5, "cancel_order_id": 5}, CANCEL, {}, "cancel_order.yml")
    assert caught.value.option == "cancel_order_id"
