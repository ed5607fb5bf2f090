"""The shipped playbooks' variables by their old names (clore_search_*, clore_rent_*, clore_watch_*, watch_*,
order_id/issue, job_*): read under their new names <playbook>_* until 0.3.0, each with a deprecation warning naming
the new name; an old name given with its new one is refused, before any API call."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .conftest import PLAYBOOKS
from .playbook import PlaybookRun, run_playbook
from .test_playbook_inputs import ON_CONTROLLER, first_failure, requests_made

# playbook -> (-e pairs by old names, with a value the new name's check refuses; the new name it must name)
OLD_NAMES = {
    "cancel_order.yml": (["order_id=abc", "issue=gone"], "cancel_order_id"),
    "market_search.yml": (["clore_search_limit=0"], "market_search_limit"),
    "rent_cheapest.yml": (["clore_rent_wait_timeout=0"], "rent_cheapest_wait_timeout"),
    "watch_orders.yml": (["clore_watch_order_ids=abc"], "watch_orders_order_ids"),
    "watch_and_rent.yml": (["watch_timeout=soon"], "watch_and_rent_timeout"),
    "run_job.yml": (["job_hosts=localhost", *ON_CONTROLLER, "job_timeout=1x"], "run_job_timeout"),
}
NEW_NAME = {"order_id": "cancel_order_id", "issue": "cancel_order_issue", "job_hosts": "run_job_hosts"}


def warning(old: str, new: str) -> str:
    return f"the variable {old} is now {new}. This feature will be removed from collection 'clore.ai' version 0.3.0"


def renamed(pairs: list[str], playbook: str) -> list[tuple[str, str]]:
    """(old, new) for each -e pair given by an old name."""
    prefix = playbook.removesuffix(".yml") + "_"
    olds = [pair.split("=")[0] for pair in pairs if pair not in ON_CONTROLLER]
    return [(old, NEW_NAME.get(old) or prefix + old.split("_", 2 if old.startswith("clore_") else 1)[-1])
            for old in olds]


def run_with(playbook: str, env: dict, pairs: list[str], deprecations: tuple[str, ...] = ()) -> PlaybookRun:
    args = [arg for pair in pairs for arg in ("-e", pair)]
    return run_playbook(PLAYBOOKS / playbook, env, extra_args=args, deprecations=deprecations)


def test_an_old_name_is_read_under_its_new_one_with_a_deprecation_warning(sim, ansible_env):
    def run(playbook: str) -> PlaybookRun:
        pairs = OLD_NAMES[playbook][0]
        return run_with(playbook, ansible_env, pairs, tuple(warning(*names) for names in renamed(pairs, playbook)))

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(OLD_NAMES, pool.map(run, OLD_NAMES)))
    for playbook, done in runs.items():
        task, msg = first_failure(done)
        # The old name's value reached the new name's check, which refused it naming the new name.
        assert done.rc != 0 and OLD_NAMES[playbook][1] in msg, (playbook, task, msg, done.stderr[-2000:])
    assert requests_made(sim) == 0


def test_a_playbook_run_by_old_names_does_what_the_new_names_do(sim, ansible_env):
    old = run_with("market_search.yml", ansible_env, ["clore_search_limit=2", "clore_search_sort_by=reliability"],
                   (warning("clore_search_limit", "market_search_limit"),
                    warning("clore_search_sort_by", "market_search_sort_by")))
    new = run_with("market_search.yml", ansible_env, ["market_search_limit=2", "market_search_sort_by=reliability"])
    assert old.rc == 0 and new.rc == 0, old.stdout[-3000:] + old.stderr[-3000:]
    assert old.result("Search the market")["servers"] == new.result("Search the market")["servers"]
    assert len(new.result("Search the market")["servers"]) == 2


def test_an_old_name_given_with_its_new_one_is_refused_naming_both(sim, ansible_env):
    cases = {"cancel_order.yml": ["order_id=7", "cancel_order_id=8"],
             "watch_and_rent.yml": ["watch_and_rent_timeout=0", "watch_timeout=0"]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(cases, pool.map(lambda playbook: run_with(playbook, ansible_env, cases[playbook]), cases)))
    expected = {"cancel_order.yml": "order_id and cancel_order_id are both given; order_id is the old name of "
                                    "cancel_order_id: give only cancel_order_id",
                "watch_and_rent.yml": "watch_timeout and watch_and_rent_timeout are both given"}
    for playbook, done in runs.items():
        task, msg = first_failure(done)
        assert done.rc != 0 and task.startswith("Check their names") and expected[playbook] in msg, (playbook, task, msg)
    assert requests_made(sim) == 0
