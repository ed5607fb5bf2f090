"""clore_order_info's images filter: every spelling of one image is one image, as clore_order has it."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.order_info import check_filters


@pytest.mark.parametrize("wanted", ["ubuntu", "ubuntu:latest", "library/ubuntu", "docker.io/library/ubuntu:latest"])
def test_images_are_kept_as_references(wanted):
    assert check_filters({"images": [wanted]})["images"] == {"docker.io/library/ubuntu:latest"}


def test_tags_and_registries_stay_apart():
    found = check_filters({"images": ["ubuntu:22.04", "ghcr.io/me/app", "me/app"]})["images"]
    assert found == {"docker.io/library/ubuntu:22.04", "ghcr.io/me/app:latest", "docker.io/me/app:latest"}
