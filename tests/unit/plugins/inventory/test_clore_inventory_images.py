"""The inventory's clore_image_id: one reference per image whatever Clore's spelling, for keyed_groups."""
from __future__ import annotations

import time

import pytest


def raw_order(order_id: int, image: str) -> dict:
    return {"id": order_id, "si": 100 + order_id, "image": image, "currency": "USD-Blockchain", "price": 4.8,
            "spend": 0.5, "ct": int(time.time()) - 600, "mrl": 86400, "spot": False, "expired": False,
            "specs": {"gpu": "1x NVIDIA GeForce RTX 4090"}, "pub_cluster": ["n1.example.net"],
            "tcp_ports": [f"22:{10000 + order_id}"], "online": True, "mon_container": 2}


@pytest.mark.parametrize("image", ["ubuntu", "ubuntu:latest", "library/ubuntu", "docker.io/library/ubuntu:latest"])
def test_every_spelling_has_one_image_id(parse_inventory, image):
    hv = parse_inventory({}, [raw_order(7, image)]).vars("clore-7")
    assert hv["clore_image"] == image and hv["clore_image_id"] == "docker.io/library/ubuntu:latest"


def test_the_prefix_applies_and_a_tag_or_registry_is_kept(parse_inventory):
    inv = parse_inventory({"hostvars_prefix": "gpu_"}, [raw_order(7, "ghcr.io:443/me/app:Release-1")])
    assert inv.vars("clore-7")["gpu_image_id"] == "ghcr.io:443/me/app:Release-1"
