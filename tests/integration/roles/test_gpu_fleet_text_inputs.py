"""clore.ai.gpu_fleet's list variables typed on the command line (-e name=value), as JSON text or comma-separated:
read as the lists they spell, never as one text (a GPU filter '["A100"]' is a regular expression's character class
that matches nearly every model)."""
from __future__ import annotations

import pytest

from ..playbook import run_playbook
from .conftest import PLAYBOOKS


@pytest.mark.parametrize("typed", ['gpu_fleet_gpu=["A100"]', "gpu_fleet_gpu=A100", 'gpu_fleet_gpu=["A100","H100"]',
                                   "gpu_fleet_gpu=A100,H100"])
def test_gpu_models_typed_as_text_are_a_list(sim, ansible_env, ssh_keypair, typed):
    fleet = {"gpu_fleet_count": 2, "gpu_fleet_ssh_private_key_file": str(ssh_keypair[0]), "gpu_fleet_group": "rented"}
    plan = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet, check=True,
                        extra_args=["-e", typed])
    assert plan.rc == 0, plan.stdout[-3000:] + plan.stderr
    would = plan.result("Converge the fleet")["would_create"]
    assert len(would) == 2
    assert all(("A100" in c["gpu_model"] or "H100" in c["gpu_model"]) for c in would), would
    assert sim.counters()["posts"] == {}


def test_an_unreadable_list_is_refused_naming_it(sim, ansible_env, ssh_keypair):
    fleet = {"gpu_fleet_count": 1, "gpu_fleet_ssh_private_key_file": str(ssh_keypair[0])}
    run = run_playbook(PLAYBOOKS / "gpu_fleet.yml", ansible_env, extra_vars=fleet, check=True,
                       extra_args=["-e", "gpu_fleet_countries=DE,,FR"])
    assert run.rc != 0
    assert "gpu_fleet_countries" in run.stdout + run.stderr
    assert sim.counters()["requests"] == {}
