"""One image in any spelling, as a user sees it: clore_order_info's images filter, the clore.ai.image_id filter and
the inventory's clore_image_id all take ubuntu, ubuntu:latest, library/ubuntu and docker.io/library/ubuntu:latest
for one image."""
from __future__ import annotations

import json

from .playbook import run_inventory, run_playbook

SPELLINGS = ["ubuntu:latest", "library/ubuntu", "docker.io/library/ubuntu:latest"]
OTHERS = ["ubuntu:22.04", "cloreai/ubuntu"]

TASKS = """\
    - name: By image
      clore.ai.clore_order_info:
        images: [ubuntu]
    - name: Every order
      clore.ai.clore_order_info:
      register: every
    - name: The reference of each order's image
      ansible.builtin.debug:
        msg: "{{ every.orders | map(attribute='image') | map('clore.ai.image_id', strict=false) | list }}"
"""


def test_clore_order_info_and_the_filter_take_every_spelling_for_one_image(sim, ansible_env, local_play):
    ours = [sim.seed_orders(sim.api_key, 1, currency="USD-Blockchain", image=image)[0] for image in SPELLINGS]
    for image in OTHERS:
        sim.seed_orders(sim.api_key, 1, currency="USD-Blockchain", image=image)
    play = local_play("One image, every spelling", TASKS)
    done = run_playbook(play, ansible_env)
    assert done.rc == 0, done.stdout[-3000:]
    assert sorted(o["id"] for o in done.result("By image")["orders"]) == sorted(ours)
    references = done.result("The reference of each order's image")["msg"]
    assert references.count("docker.io/library/ubuntu:latest") == 3
    assert sorted(set(references)) == sorted({"docker.io/library/ubuntu:latest", "docker.io/library/ubuntu:22.04",
                                              "docker.io/cloreai/ubuntu:latest"})


def plain(value):
    """A host variable's text as ansible-inventory --list writes it (a text from an API is marked unsafe)."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def test_the_inventory_groups_every_spelling_under_one_image_id(sim, ansible_env, tmp_path):
    ours = [sim.seed_orders(sim.api_key, 1, currency="USD-Blockchain", image=image)[0] for image in SPELLINGS]
    config = tmp_path / "images.clore.yml"
    config.write_text("plugin: clore.ai.clore\nkeyed_groups:\n  - key: clore_image_id\n    prefix: image\n")
    listed = run_inventory(config, ansible_env, "--list")
    assert listed.returncode == 0, listed.stderr[-3000:]
    inventory = json.loads(listed.stdout)
    hostvars = inventory["_meta"]["hostvars"]
    assert {plain(hostvars[f"clore-{i}"]["clore_image_id"]) for i in ours} == {"docker.io/library/ubuntu:latest"}
    (group,) = [name for name in inventory if name.startswith("image_") and "ubuntu" in name]
    assert sorted(inventory[group]["hosts"]) == sorted(f"clore-{i}" for i in ours)
