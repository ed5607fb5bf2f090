"""clore_order_info's reaping filters against clore-sim: age on the service's clock, spend, image, GPU; USD costs."""
from __future__ import annotations

from .order.helpers import IMAGE
from .playbook import run_playbook

TASKS = """\
    - name: Older than 5h
      clore.ai.clore_order_info:
        older_than: 5h
    - name: Spent over 100 USD
      clore.ai.clore_order_info:
        spend_over: {amount: 100}
    - name: By image
      clore.ai.clore_order_info:
        images: ["docker.io/{{ other_image }}"]
      register: by_image
    - name: By GPU
      clore.ai.clore_order_info:
        gpu: ["{{ by_image.orders[0].gpu_model }}"]
    - name: By a GPU nobody has
      clore.ai.clore_order_info:
        gpu: ["H999"]
"""
OTHER_IMAGE = "cloreai/ubuntu20.04-jupyter"


def test_filters_and_costs(sim, ansible_env, local_play):
    (old,) = sim.seed_orders(sim.api_key, 1, currency="CLORE-Blockchain", image=IMAGE)
    sim.advance_clock(6 * 3600)
    (new,) = sim.seed_orders(sim.api_key, 1, currency="USD-Blockchain", image=OTHER_IMAGE)
    sim.admin("POST", "order_fields", {"order_id": new, "fields": {"spend": 150.0}})
    play = local_play("Filter orders", TASKS)
    done = run_playbook(play, ansible_env, extra_vars={"other_image": OTHER_IMAGE})
    assert done.rc == 0, done.stdout[-3000:]

    older = done.result("Older than 5h")["orders"]
    assert [o["id"] for o in older] == [old] and older[0]["age_hours"] >= 6
    # Paid in CLORE: its USD figures need the market's rates, read because of it.
    assert older[0]["usd_per_day"] > 0 and older[0]["spend_usd"] > 0
    spent = done.result("Spent over 100 USD")["orders"]
    assert new in [o["id"] for o in spent] and all(o["spend_usd"] > 100 for o in spent)
    assert [o["id"] for o in done.result("By image")["orders"]] == [new]
    assert new in [o["id"] for o in done.result("By GPU")["orders"]]
    assert done.result("By a GPU nobody has")["orders"] == []
