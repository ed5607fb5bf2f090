"""playbooks/watch_and_rent.yml against clore-sim, as a user schedules it: it rents once per watch and says so on the
next runs, "not reached" is rc 0 and one line (rc 2 when asked), one line per look, bad variables refused before any
API call."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
import requests

from .conftest import PLAYBOOKS
from .order.helpers import active_orders, posts
from .playbook import run_playbook

WATCH = PLAYBOOKS / "watch_and_rent.yml"
LOOKS = "Watch the price"
STILL_ACTIVE = "Say that this watch's order is still active"
NOT_REACHED = "Say that the price was not reached"


def watch(env, keypair, **extra):
    settings = {"watch_and_rent_ssh_private_key_file": str(keypair[0]), "watch_and_rent_poll_interval": 2, "watch_and_rent_timeout": 0,
                "watch_and_rent_name": "test-4090", **extra}
    return run_playbook(WATCH, env, extra_vars=settings)


def ran(run) -> str:
    return run.stdout[-4000:] + run.stderr[-2000:]


def messages(run, name: str) -> list[str]:
    return [result["msg"] for result in run.task_results(name) if "msg" in result]


def test_a_watch_rents_once_and_its_next_runs_change_nothing_and_say_so(sim, ansible_env, ssh_keypair):
    first = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000, watch_and_rent_timeout=10)
    assert first.rc == 0, ran(first)
    (order,) = active_orders(sim)
    assert first.result("Rent the server")["changed"] is True
    assert "rented order" in first.result("Show the rented server")["msg"]
    records = list((Path(ansible_env["CLORE_STATE_DIR"]) / "watch").iterdir())
    (record,) = [json.loads(r.read_text()) for r in records]
    assert (record["watch_name"], record["server_id"], record["order_id"]) == ("test-4090", order["si"], order["id"])

    creates = posts(sim).get("create_order", 0)
    second = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000, watch_and_rent_timeout=10)
    assert second.rc == 0, ran(second)
    assert second.changed_count() == 0
    (said,) = messages(second, STILL_ACTIVE)
    assert f"order {order['id']} on server {order['si']}" in said and "nothing to do" in said
    assert second.task_results(LOOKS) == []  # it did not even look at the market

    # The same from cron: look once.
    third = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000, watch_and_rent_timeout=0)
    assert third.rc == 0 and third.changed_count() == 0, ran(third)
    assert "nothing to do" in messages(third, STILL_ACTIVE)[0]
    assert posts(sim).get("create_order", 0) == creates and len(active_orders(sim)) == 1

    # Another watch (another name) is another rental.
    other = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000, watch_and_rent_name="second-4090")
    assert other.rc == 0, ran(other)
    assert len(active_orders(sim)) == 2


def test_once_its_order_has_ended_the_watch_rents_again(sim, ansible_env, ssh_keypair):
    first = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000)
    assert first.rc == 0, ran(first)
    (order,) = active_orders(sim)
    cancel(sim, order["id"])
    again = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000)
    assert again.rc == 0, ran(again)
    assert messages(again, STILL_ACTIVE) == []
    assert [o["id"] for o in active_orders(sim)] != [order["id"]] and len(active_orders(sim)) == 1


def cancel(sim, order_id: int) -> None:
    answer = requests.post(f"{sim.api_url}/cancel_order", headers={"auth": sim.api_key}, json={"id": order_id},
                           timeout=30)
    assert answer.json()["code"] == 0


def test_the_price_not_reached_is_one_line_and_rc_0(sim, ansible_env, ssh_keypair):
    run = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=0.01, watch_and_rent_timeout=3)
    assert run.rc == 0, ran(run)
    assert "FAILED - RETRYING" not in run.stdout
    looks = run.result(LOOKS)["results"]
    # Looks at 0 s and 2 s at most (a look at 4 s would come after the 3 s deadline): one API call each.
    assert 1 <= len(looks) <= 2 and len(looks) == sim.counters()["requests"]["marketplace"]
    for number, look in enumerate(looks, 1):
        label = look["_ansible_item_label"]
        assert label.startswith(f"look {number}: the cheapest now is server ") and "\n" not in label
        assert " USD per day; the cap 0.01 USD per day (on-demand); " in label and label.endswith(" s left")
    (line,) = messages(run, NOT_REACHED)
    assert line.startswith("watch 'test-4090': no free RTX 4090 at or under the cap 0.01 USD per day (on-demand) "
                           f"within 3 s ({len(looks)} look(s)); the cheapest at the last look: server ")
    assert active_orders(sim) == [] and posts(sim).get("create_order", 0) == 0


def test_the_price_not_reached_fails_when_asked(sim, ansible_env, ssh_keypair):
    run = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=0.01, watch_and_rent_fail_if_not_found=True)
    assert run.rc == 2, ran(run)
    failed = run.result("Fail, as watch_and_rent_fail_if_not_found asks")
    assert failed["failed"] is True and "no free RTX 4090 at or under the cap" in failed["msg"]
    assert len(run.result(LOOKS)["results"]) == 1  # watch_and_rent_timeout 0: one look


def test_a_coin_cap_compares_the_hosts_price_in_that_coin(sim, ansible_env, ssh_keypair):
    run = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=100000, watch_and_rent_currency="CLORE-Blockchain",
                watch_and_rent_price_per="hour", watch_and_rent_rent=False)
    assert run.rc == 0, ran(run)
    (look,) = run.result(LOOKS)["results"]
    assert look["servers"][0]["prices"]["on-demand"]["CLORE-Blockchain"] / 24 <= 100000
    assert "at or under it" in look["_ansible_item_label"]
    assert "watch_and_rent_rent is false: not renting" in run.result("Show the match")["msg"]
    assert active_orders(sim) == []


@pytest.mark.parametrize(("extra", "named"), [
    ({"watch_and_rent_timeout": "soon"}, "watch_and_rent_timeout"),
    ({"watch_and_rent_timeout": 1.5}, "watch_and_rent_timeout"),
    ({"watch_and_rent_timeout": -1}, "watch_and_rent_timeout must be 0 (look once) or more"),
    ({"watch_and_rent_poll_interval": 1}, "watch_and_rent_poll_interval must be at least 2"),
    ({"watch_and_rent_max_price": "cheap"}, "watch_and_rent_max_price"),
    ({"watch_and_rent_max_price": 0}, "watch_and_rent_max_price must be a number above 0"),
    ({"watch_and_rent_max_price": "nan"}, "watch_and_rent_max_price must be a number above 0"),
    ({"watch_and_rent_type": "reserved"}, "watch_and_rent_type"),
    ({"watch_and_rent_price_per": "week"}, "watch_and_rent_price_per"),
    ({"watch_and_rent_currency": "EUR"}, "watch_and_rent_currency"),
    ({"watch_and_rent_name": "../elsewhere"}, "watch_and_rent_name must be 1 to 64 letters"),
    ({"watch_and_rent_fail_if_not_found": "maybe"}, "watch_and_rent_fail_if_not_found"),
    ({"watch_and_rent_ssh_private_key_file": "/nonexistent/key"}, "watch_and_rent_ssh_private_key_file: /nonexistent/key.pub"),
])
def test_bad_variables_are_refused_before_any_api_call(sim, ansible_env, ssh_keypair, extra, named):
    run = watch(ansible_env, ssh_keypair, **({"watch_and_rent_max_price": 1000} | extra))
    assert run.rc == 2, ran(run)
    assert named in run.stdout
    assert sim.counters().get("requests", {}) == {}


def test_a_rental_recorded_by_another_run_while_this_one_watched_stops_it(sim, ansible_env, ssh_keypair):
    # Another run of the same watch (same name, image and API) recorded a server after this run had started.
    image = "cloreai/ubuntu22.04-jupyter"
    digest = hashlib.sha1(f"{ansible_env['CLORE_API_URL']} {image}".encode()).hexdigest()[:12]
    record = Path(ansible_env["CLORE_STATE_DIR"]) / "watch" / f"test-4090-{digest}.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"watch_name": "test-4090", "image": image, "server_id": 1, "order_id": None,
                                  "recorded_at": time.time() + 3600}))
    run = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000, watch_and_rent_image=image)
    assert run.rc == 0, ran(run)
    (said,) = messages(run, "Say that another run of this watch rented meanwhile")
    assert said == ("watch 'test-4090': another run of this watch recorded server 1 while this one watched: nothing "
                    "rented.")
    assert posts(sim).get("create_order", 0) == 0 and active_orders(sim) == []


def test_a_run_stopped_between_renting_and_recording_is_adopted_by_the_next(sim, ansible_env, ssh_keypair):
    first = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000)
    assert first.rc == 0, ran(first)
    (order,) = active_orders(sim)
    (path,) = (Path(ansible_env["CLORE_STATE_DIR"]) / "watch").iterdir()
    path.write_text(json.dumps(json.loads(path.read_text()) | {"order_id": None}))  # as if stopped before recording

    again = watch(ansible_env, ssh_keypair, watch_and_rent_max_price=1000)
    assert again.rc == 0, ran(again)
    assert again.result("Record the order adopted")["changed"] is True
    assert f"order {order['id']} on server {order['si']}" in messages(again, STILL_ACTIVE)[0]
    assert json.loads(path.read_text())["order_id"] == order["id"]
    assert len(active_orders(sim)) == 1
