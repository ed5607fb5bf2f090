"""Images compared as Docker references: exactly-once recognition and fleet identity do not depend on spelling."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ansible_collections.clore.ai.plugins.module_utils._order.create import create_body, is_order_of_create
from ansible_collections.clore.ai.plugins.module_utils._order.identity import members
from ansible_collections.clore.ai.plugins.module_utils.images import image_reference, same_image
from ansible_collections.clore.ai.plugins.module_utils._order.lock import lock_path
from ansible_collections.clore.ai.plugins.module_utils._order.request import Container, OrderRequest, Terms


@pytest.mark.parametrize("spelling", [
    "ubuntu", "ubuntu:latest", "library/ubuntu", "docker.io/ubuntu", "docker.io/library/ubuntu:latest",
    "index.docker.io/library/ubuntu", " Ubuntu ",
])
def test_spellings_of_one_docker_hub_image_are_one_reference(spelling):
    assert image_reference(spelling) == "docker.io/library/ubuntu:latest"


@pytest.mark.parametrize("first, second, same", [
    ("cloreai/jupyter:ubuntu24.04-v2", "docker.io/cloreai/jupyter:ubuntu24.04-v2", True),
    ("nvidia/cuda:12.1.0-devel-ubuntu22.04", "nvidia/cuda:12.1.0-devel-ubuntu22.04", True),
    ("cloreai/ubuntu22.04-jupyter", "cloreai/ubuntu22.04-jupyter:latest", True),
    ("ubuntu:22.04", "ubuntu:24.04", False),
    ("ubuntu", "cloreai/ubuntu", False),
    ("ghcr.io/me/app", "me/app", False),
    ("localhost:5000/app:1", "localhost:5000/app:1", True),
    ("ubuntu@sha256:abc", "ubuntu", False),
    (None, "ubuntu", False),
])
def test_same_image(first, second, same):
    assert same_image(first, second) is same


def test_a_registry_port_is_not_a_tag():
    assert image_reference("registry.example.com:5000/team/app") == "registry.example.com:5000/team/app:latest"


def order(image: str, order_id: int = 5, server_id: int = 1, ct: int = 1000) -> dict:
    return {"id": order_id, "server_id": server_id, "image": image, "expired": False, "created_at": ct}


def test_create_recognises_its_order_listed_under_another_spelling():
    assert is_order_of_create(order("docker.io/library/ubuntu:latest"), 1, "ubuntu", 990.0)
    assert not is_order_of_create(order("ubuntu:22.04"), 1, "ubuntu", 990.0)


def test_fleet_members_are_found_whatever_the_spelling():
    pairs = [({"si": 1, "specs": {}}, order("docker.io/library/ubuntu:latest", 1)),
             ({"si": 2, "specs": {}}, order("ubuntu:latest", 2, 2)),
             ({"si": 3, "specs": {}}, order("ubuntu:22.04", 3, 3))]
    found = members(OrderRequest(mode="fleet", container=Container(image="ubuntu")), pairs)
    assert [o["id"] for o in found] == [1, 2]


def test_one_lock_per_image_however_spelt(tmp_path):
    assert lock_path(tmp_path, "acct", "ubuntu") == lock_path(tmp_path, "acct", "docker.io/library/ubuntu:latest")
    assert lock_path(tmp_path, "acct", "ubuntu") != lock_path(tmp_path, "acct", "ubuntu:22.04")


def test_private_image_options_go_to_create_order():
    container = Container(image="me/private", dockerhub_auth="me:token", remember_password=True,
                          ssh_password="Secret1")
    body = create_body(container, Terms(), 7, "USD-Blockchain")
    assert body["dockerhub_auth"] == "me:token" and body["remember_password"] is True
    assert "dockerhub_auth" not in create_body(replace(container, dockerhub_auth=None), Terms(), 7,
                                               "USD-Blockchain")
