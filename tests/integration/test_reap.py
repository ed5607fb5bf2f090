"""playbooks/reap.yml against clore-sim: old, over-spent, expired and idle orders go; busy, kept and unreachable stay."""
from __future__ import annotations

from .conftest import PLAYBOOKS
from .order.helpers import IMAGE, active_orders, posts
from .playbook import run_playbook

KEEP_IMAGE = "cloreai/jupyter:ubuntu24.04-v2"
USD_COIN = "USD-Blockchain"


def reap(env, keypair, **extra):
    settings = {"reap_older_than_hours": 5, "reap_spend_over_usd": 500, "reap_idle_minutes": 30,
                "reap_idle_gpu_util": 10, "reap_ssh_private_key_file": str(keypair[0]), "reap_ssh_timeout": 5,
                "reap_probe_timeout": 20, **extra}
    done = run_playbook(PLAYBOOKS / "reap.yml", env, extra_vars=settings)
    assert done.rc == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done, done.result("Keep the result for reports")["ansible_facts"]["reap_result"]


def test_reaper_cancels_old_spent_expired_and_idle_orders_and_keeps_the_rest(sim, ansible_env, ssh_keypair):
    key = ssh_keypair[1]
    old, kept_by_id = sim.seed_orders(sim.api_key, 2, currency=USD_COIN, image=IMAGE, ssh_key=key)
    (kept_by_image,) = sim.seed_orders(sim.api_key, 1, currency=USD_COIN, image=KEEP_IMAGE, ssh_key=key)
    sim.advance_clock(10 * 3600)  # those three are 10 h old now
    spent, idle, busy, unreachable = sim.seed_orders(sim.api_key, 4, currency=USD_COIN, image=IMAGE, ssh_key=key)
    sim.admin("POST", "order_fields", {"order_id": spent, "fields": {"spend": 999.0}})
    sim.set_gpu_utilization(busy, 90)
    sim.set_ssh_reachable(unreachable, False)
    keep = {"reap_keep_order_ids": [kept_by_id], "reap_keep_images": [f"docker.io/{KEEP_IMAGE}"]}
    before = posts(sim)

    _dry, first = reap(ansible_env, ssh_keypair, **keep)
    assert not first["applied"]
    assert sorted(o["id"] for o in first["cancel"]) == sorted([old, spent])
    assert [o["id"] for o in first["unreachable"]] == [unreachable]
    assert float(first["usd_per_day_saved"]) > 0
    assert posts(sim) == before and len(active_orders(sim)) == 7  # a dry run cancels nothing

    sim.advance_clock(31 * 60)  # the idle order has now been idle for 31 minutes since the first look
    _done, second = reap(ansible_env, ssh_keypair, reap_apply=True, **keep)
    reasons = {o["id"]: " ".join(o["reasons"]) for o in second["cancel"]}
    assert sorted(reasons) == sorted([old, spent, idle]), second
    assert "older than" in reasons[old] and "spent more" in reasons[spent] and "idle" in reasons[idle]
    assert [o["id"] for o in second["unreachable"]] == [unreachable]
    left = {o["id"] for o in active_orders(sim)}
    assert left == {kept_by_id, kept_by_image, busy, unreachable}
    issues = {o["id"]: o.get("issue") or "" for o in sim.orders()}
    assert all(issues[i].startswith("reaped: ") for i in (old, spent, idle))


FLEET_PLAY = """\
- name: A fleet with a lifetime
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: clore.ai.gpu_fleet
"""


def test_a_fleet_past_its_lifetime_is_reaped_without_its_release_step(sim, ansible_env, ssh_keypair, tmp_path):
    play = tmp_path / "fleet.yml"
    play.write_text(FLEET_PLAY)
    fleet = {"gpu_fleet_count": 1, "gpu_fleet_image": IMAGE, "gpu_fleet_currency": USD_COIN, "gpu_fleet_wait": False,
             "gpu_fleet_lifetime_hours": 0.25, "gpu_fleet_ssh_private_key_file": str(ssh_keypair[0])}
    rented = run_playbook(play, ansible_env, extra_vars=fleet)
    assert rented.rc == 0, rented.stdout[-4000:]
    (order,) = [o["id"] for o in active_orders(sim)]

    _done, early = reap(ansible_env, ssh_keypair, reap_older_than_hours=None, reap_spend_over_usd=None,
                        reap_idle_minutes=None, reap_apply=True)
    assert early["cancel"] == [] and [o["id"] for o in active_orders(sim)] == [order]

    sim.advance_clock(16 * 60)
    _done, due = reap(ansible_env, ssh_keypair, reap_older_than_hours=None, reap_spend_over_usd=None,
                      reap_idle_minutes=None, reap_apply=True)
    assert [o["id"] for o in due["cancel"]] == [order] and "lifetime" in due["cancel"][0]["reasons"][0]
    assert active_orders(sim) == []
