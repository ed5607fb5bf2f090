"""Every shipped playbook checks its variables first: a bad value typed with -e name=value is refused before any API
call, with a message naming the variable, instead of being read as 0 or as nothing (playbooks/specs/)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .conftest import PLAYBOOKS
from .order.helpers import IMAGE
from .playbook import PlaybookRun, run_playbook

# The inventory-driven playbooks run here on the controller itself, so that their first task is reached.
ON_CONTROLLER = ["ansible_connection=local"]

BAD_INPUTS: dict[str, list[tuple[list[str], str]]] = {
    "auto_rent.yml": [(["auto_rent_max_price=0"], "auto_rent_max_price"),
                      (["auto_rent_max_price=5USD"], "auto_rent_max_price"),
                      (["auto_rent_count=0"], "auto_rent_count"), (["auto_rent_image=Ubuntu"], "auto_rent_image"),
                      (["auto_rent_gpu=[RTX"], "auto_rent_gpu"), (["auto_rent_price_per=week"], "auto_rent_price_per"),
                      (["auto_rent_server_id=abc"], "auto_rent_server_id")],
    "cancel_order.yml": [([], "cancel_order_id"), (["cancel_order_id=abc"], "cancel_order_id"),
                         (["cancel_order_id=-3"], "cancel_order_id"), (["cancel_order_id=1x"], "cancel_order_id")],
    # Its own two variables are texts that any -e value is; the gpu_host role's spec checks gpu_host_*.
    "configure.yml": [],
    "demo.yml": [(["demo_max_usd_per_day=nan"], "demo_max_usd_per_day"), (["demo_offers_shown=1x"], "demo_offers_shown"),
                 (["demo_image=Ubuntu"], "demo_image"), (["demo_release=maybe"], "demo_release"),
                 (["demo_spot_gpu=[RTX"], "demo_spot_gpu")],
    "host_pricing.yml": [(["host_pricing_percentile=150"], "host_pricing_percentile"),
                         (["host_pricing_floor=0"], "host_pricing_floor"),
                         (["host_pricing_ceiling=0.001"], "host_pricing_ceiling"),
                         (["host_pricing_spot_fraction=inf"], "host_pricing_spot_fraction"),
                         (["host_pricing_min_comparables=1x"], "host_pricing_min_comparables")],
    "managed_job.yml": [(["managed_job_checkpoint_interval=10s"], "managed_job_checkpoint_interval"),
                        (["managed_job_poll_interval=0"], "managed_job_poll_interval"),
                        (["managed_job_max_recoveries=-1"], "managed_job_max_recoveries"),
                        (["managed_job_budget_usd=5USD"], "managed_job_budget_usd"),
                        (["managed_job_deadline=1x"], "managed_job_deadline"),
                        (["managed_job_gpu=[RTX"], "managed_job_gpu")],
    "market_search.yml": [(["market_search_limit=0"], "market_search_limit"),
                          (["market_search_gpu_count_min=-1"], "market_search_gpu_count_min"),
                          (["market_search_reliability_min=2"], "market_search_reliability_min"),
                          (["market_search_descending=maybe"], "market_search_descending"),
                          (["market_search_countries=DE,,FR"], "market_search_countries")],
    "reap.yml": [(["reap_older_than_hours=abc"], "reap_older_than_hours"),
                 (["reap_spend_over_usd=5USD"], "reap_spend_over_usd"),
                 (["reap_keep_order_ids=abc"], "reap_keep_order_ids"),
                 (["reap_keep_images=Ubuntu"], "reap_keep_images")],
    "release.yml": [(["release_order_ids=abc"], "release_order_ids"), (["release_order_ids=0"], "release_order_ids"),
                    (["gpu_fleet_count=1x"], "gpu_fleet_count"), (["gpu_fleet_image=Ubuntu"], "gpu_fleet_image")],
    "rent.yml": [(["gpu_fleet_count=1x"], "gpu_fleet_count"), (["gpu_fleet_count=-1"], "gpu_fleet_count"),
                 (["gpu_fleet_image=Ubuntu"], "gpu_fleet_image")],
    "rent_cheapest.yml": [(["rent_cheapest_type=spott"], "rent_cheapest_type"),
                          (["rent_cheapest_spot_price=nan"], "rent_cheapest_spot_price"),
                          (["rent_cheapest_wait_timeout=0"], "rent_cheapest_wait_timeout"),
                          (["rent_cheapest_image=Ubuntu"], "rent_cheapest_image"),
                          (["rent_cheapest_state=gone"], "rent_cheapest_state")],
    "run_job.yml": [(["run_job_hosts=localhost", *ON_CONTROLLER, "run_job_timeout=1x"], "run_job_timeout"),
                    (["run_job_hosts=localhost", *ON_CONTROLLER, "run_job_poll_interval=0"], "run_job_poll_interval")],
    "spot_fleet.yml": [(["spot_fleet_count=1x"], "spot_fleet_count"),
                       (["spot_fleet_max_price=nan"], "spot_fleet_max_price"),
                       (["spot_fleet_exact=maybe"], "spot_fleet_exact"),
                       (["spot_fleet_bid_step=abc"], "spot_fleet_bid_step"),
                       (["spot_fleet_gpu=[RTX"], "spot_fleet_gpu")],
    "watch_orders.yml": [(["watch_orders_order_ids=abc"], "watch_orders_order_ids"),
                         (["watch_orders_server_ids=1,,2"], "watch_orders_server_ids"),
                         (["watch_orders_include_ended=maybe"], "watch_orders_include_ended")],
}
# Rewritten elsewhere, with their own checks.
NOT_SWEPT = {"watch_and_rent.yml", "check_api.yml"}


def run_with(playbook: str, env: dict, pairs: list[str]) -> PlaybookRun:
    args = [arg for pair in pairs for arg in ("-e", pair)]
    return run_playbook(PLAYBOOKS / playbook, env, extra_args=args)


def first_failure(run: PlaybookRun) -> tuple[str, str]:
    """(task name, msg) of the first failed task result, or ('', '')."""
    for play in run.data.get("plays", []):
        for task in play.get("tasks", []):
            for result in task["hosts"].values():
                if result.get("failed"):
                    return task["task"]["name"], str(result.get("msg", ""))
    return "", ""


def requests_made(sim) -> int:
    return sum(sim.counters().get("requests", {}).values())


def test_every_shipped_playbook_is_swept():
    shipped = {path.name for path in PLAYBOOKS.glob("*.yml")}
    assert shipped - NOT_SWEPT == set(BAD_INPUTS)


def test_every_playbook_refuses_bad_inputs_before_any_call_naming_the_variable(sim, ansible_env):
    sim.seed_orders(sim.api_key, 1, currency="USD-Blockchain", image=IMAGE)
    cases = [(playbook, pairs, variable) for playbook, table in BAD_INPUTS.items() for pairs, variable in table]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda case: run_with(case[0], ansible_env, case[1]), cases))
    tried = {playbook: 0 for playbook in BAD_INPUTS}
    refused = dict(tried)
    misses = []
    for (playbook, pairs, variable), run in zip(cases, runs):
        task, msg = first_failure(run)
        tried[playbook] += 1
        # The check is each playbook's first task: failing there is failing before any API call.
        if run.rc != 0 and task.startswith("Check the variables") and variable in msg \
                and "Traceback" not in run.stdout + run.stderr:
            refused[playbook] += 1
        else:
            misses.append(f"{playbook} {pairs}: rc {run.rc}, task {task!r}, msg {msg[:300]!r}")
    for playbook in BAD_INPUTS:
        print(f"{playbook:20} tried {tried[playbook]:2}  refused before any call, naming the variable "
              f"{refused[playbook]:2}")
    print(f"{'all':20} tried {sum(tried.values()):2}  refused {sum(refused.values()):2}")
    assert not misses, "\n".join(misses)
    assert requests_made(sim) == 0
