"""A private image: dockerhub_auth reaches create_order and appears in no result, diff or output; the fleet is found
again on a second run whatever spelling of the image the task uses."""
from __future__ import annotations

from .helpers import active_orders

AUTH = "me:dckr_pat_s3cretValue9"


def test_dockerhub_auth_is_sent_never_shown_and_the_fleet_is_one_image(sim, ansible_env, run_order, ssh_keypair):
    task = {"count": 1, "image": "me/private-app", "gpu": ["RTX 4090"], "ssh_key": ssh_keypair[1],
            "dockerhub_auth": AUTH, "remember_password": True, "wait": False}
    planned = run_order(ansible_env, task, check=True, diff=True)
    rented = run_order(ansible_env, task, diff=True)
    # The same image, spelt as a full Docker reference: the same fleet, nothing rented again.
    again = run_order(ansible_env, {**task, "image": "docker.io/me/private-app:latest"}, diff=True)
    for run in (planned, rented, again):
        assert run.run.rc == 0, run.output[-3000:]
        assert AUTH not in run.output and AUTH not in str(run.results)
    assert rented.result["changed"] is True and again.result["changed"] is False
    orders = active_orders(sim)
    assert len(orders) == 1 and orders[0]["private_image"] is True
    assert AUTH not in str(sim.orders())
