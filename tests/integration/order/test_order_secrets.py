"""playbooks/rent_cheapest.yml end to end, at -vvvv: it rents the cheapest free RTX 4090 once, and no secret leaks."""
from __future__ import annotations

import json

from ..conftest import PLAYBOOKS
from ..playbook import run_playbook
from .helpers import active_orders

PASSWORD = "Pw7secretPassQ"
TOKEN = "jt9tokenValueZ"
ENV_VALUE = "env-value-7f3c1d-xyzzy"


def test_rent_cheapest_verbose_shows_no_secret(sim, ansible_env, ssh_keypair, tmp_path):
    # Secrets come from host_vars, as a user keeps them (ansible-playbook -vvvv echoes its own command line).
    inventory = tmp_path / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.ini").write_text("localhost\n")
    secrets = {"rent_cheapest_ssh_password": PASSWORD, "rent_cheapest_jupyter_token": TOKEN,
               "rent_cheapest_env": {"HF_TOKEN": ENV_VALUE}}
    (inventory / "host_vars" / "localhost.yml").write_text(json.dumps(secrets))
    extra = {"rent_cheapest_ssh_public_key": ssh_keypair[1], "rent_cheapest_wait_timeout": 120}
    planned = run_playbook(PLAYBOOKS / "rent_cheapest.yml", ansible_env, extra_vars=extra, inventory=inventory / "hosts.ini", check=True, diff=True,
                           verbosity=4, json_output=False)
    rented = run_playbook(PLAYBOOKS / "rent_cheapest.yml", ansible_env, extra_vars=extra, inventory=inventory / "hosts.ini", verbosity=4,
                          json_output=False)
    again = run_playbook(PLAYBOOKS / "rent_cheapest.yml", ansible_env, extra_vars=extra, inventory=inventory / "hosts.ini", verbosity=4,
                         json_output=False)
    for run in (planned, rented, again):
        assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
        output = run.stdout + run.stderr
        for secret in (PASSWORD, TOKEN, ENV_VALUE, sim.api_key):
            assert secret not in output
    assert len(active_orders(sim)) == 1
    assert "(NVIDIA GeForce RTX 4090)" in rented.stdout and "ssh -p " in rented.stdout
    assert "would rent server" in planned.stdout
    assert sim.counters()["orders_created"] == 1
