"""One image, every spelling: module_utils/images.py is the one place that says which texts name one Docker image."""
from __future__ import annotations

import pytest

from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError
from ansible_collections.clore.ai.plugins.module_utils.images import (
    checked_reference,
    hub_spelling,
    image_reference,
    same_image,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("spelling", [
    "ubuntu", "ubuntu:latest", "library/ubuntu", "library/ubuntu:latest", "docker.io/ubuntu",
    "docker.io/library/ubuntu", "docker.io/library/ubuntu:latest", "index.docker.io/library/ubuntu",
    "registry-1.docker.io/library/ubuntu:latest", "registry.hub.docker.com/ubuntu", "DOCKER.IO/library/ubuntu",
])
def test_every_spelling_of_docker_hubs_ubuntu_is_one_reference(spelling):
    assert image_reference(spelling) == "docker.io/library/ubuntu:latest"
    assert checked_reference(spelling, "image") == "docker.io/library/ubuntu:latest"


@pytest.mark.parametrize("spelling, reference", [
    ("registry.example.com:5000/team/app", "registry.example.com:5000/team/app:latest"),
    ("registry.example.com:5000/team/app:1.2", "registry.example.com:5000/team/app:1.2"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("localhost/app:v1", "localhost/app:v1"),
    ("ghcr.io/me/app:Release-1", "ghcr.io/me/app:Release-1"),  # a tag keeps its case
    (f"ubuntu@{DIGEST}", f"docker.io/library/ubuntu@{DIGEST}"),
    (f"ubuntu:22.04@{DIGEST}", f"docker.io/library/ubuntu@{DIGEST}"),  # the digest names it; the tag is ignored
    (f"ghcr.io:443/me/app@{DIGEST}", f"ghcr.io:443/me/app@{DIGEST}"),
])
def test_registries_ports_tags_and_digests(spelling, reference):
    assert image_reference(spelling) == reference
    assert checked_reference(spelling, "image") == reference


@pytest.mark.parametrize("first, second, same", [
    ("ubuntu:22.04", "ubuntu:24.04", False),
    ("ubuntu", "cloreai/ubuntu", False),
    ("ghcr.io/me/app", "me/app", False),
    ("localhost:5000/app", "localhost:5001/app", False),
    (f"ubuntu@{DIGEST}", "ubuntu", False),
    (f"ubuntu@{DIGEST}", f"docker.io/library/ubuntu:22.04@{DIGEST}", True),
    ("Ubuntu", "ubuntu", True),  # lenient for images as Clore lists them
    (None, None, True),
    (None, "ubuntu", False),
])
def test_same_image(first, second, same):
    assert same_image(first, second) is same


@pytest.mark.parametrize("image, rule", [
    ("Ubuntu", "upper-case"), ("docker.io/Library/ubuntu", "upper-case"), ("ubuntu 22.04", "space"),
    ("ubuntu:", "not a tag"), ("ubuntu:-x", "not a tag"), ("ubuntu@sha256:xyz", "not a digest"),
    ("ubuntu@", "not a digest"), ("my_-app", "lower-case letters, digits"), ("/ubuntu", "lower-case letters, digits"),
    ("", "not an image"), (None, "not an image"), (5, "not an image"),
])
def test_a_reference_docker_refuses_is_refused_naming_the_variable(image, rule):
    with pytest.raises(CloreConfigError, match=rule) as err:
        checked_reference(image, "reap_keep_images")
    assert str(err.value).startswith("reap_keep_images: ") and err.value.option == "reap_keep_images"


def test_no_image_has_no_reference():
    assert image_reference(None) is None and image_reference("  ") is None


@pytest.mark.parametrize("image, sent", [
    ("docker.io/cloreai/jupyter:v2", "cloreai/jupyter:v2"), (" ubuntu ", "ubuntu"), ("ghcr.io/me/app", "ghcr.io/me/app"),
    (None, None),
])
def test_hub_spelling_is_how_clore_stores_docker_hub_names(image, sent):
    assert hub_spelling(image) == sent
