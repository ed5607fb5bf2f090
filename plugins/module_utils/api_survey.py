"""clore_api_check's task: read every read-only endpoint once, compare each answer with what the collection reads
(api_check.py), and record the answers with the secrets removed when asked (api_record.py)."""
from __future__ import annotations

from ansible_collections.clore.ai.plugins.module_utils.api_check import check_answer, summarize
from ansible_collections.clore.ai.plugins.module_utils.api_record import write_recording

# (recording name, shape, endpoint, query) of the reads after the marketplace's; spot_marketplace's query names a
# server, known once the market is read.
_READS = (
    ("my_orders", "my_orders", "my_orders", None),
    ("my_orders_completed", "my_orders", "my_orders", {"return_completed": "true"}),
    ("wallets", "wallets", "wallets", None),
    ("spot_marketplace", "spot_marketplace", "spot_marketplace", None),
    ("my_servers", "my_servers", "my_servers", None),
)


def first_server_id(answer: dict) -> int | None:
    """The id of the marketplace's first server row with a whole-number id."""
    for row in answer.get("servers") or []:
        if isinstance(row, dict) and isinstance(row.get("id"), int) and not isinstance(row.get("id"), bool):
            return row["id"]
    return None


def read_answers(client, server_id: int | None, warn) -> list[tuple]:
    """[(recording name, shape, endpoint, answer)] of every endpoint; spot_marketplace is skipped, with a warning,
    when no server is known to ask about."""
    market = client.request("GET", "marketplace")
    server_id = server_id or first_server_id(market)
    answers = [("marketplace", "marketplace", "marketplace", market)]
    for name, shape, endpoint, query in _READS:
        if endpoint == "spot_marketplace":
            if server_id is None:
                warn("the marketplace lists no server: spot_marketplace was not checked")
                continue
            query = {"market": server_id}
        answers.append((name, shape, endpoint, client.request("GET", endpoint, params=query)))
    return answers


def run_api_check(module, client) -> dict:
    """clore_api_check's run(module, client) for common.run_module; fails (with the whole report) when an answer
    differs from what the collection reads. Check mode records nothing."""
    params = module.params
    report, unknown, recorded = {}, [], []
    for name, shape, endpoint, answer in read_answers(client, params["server_id"], module.warn):
        found = check_answer(shape, answer, call=name)
        report[name] = found
        unknown += [f"{name}: {path}" for path in found["unknown"]]
        if params["record"] and not module.check_mode:
            recorded.append(write_recording(params["record"], name, endpoint, answer, params["api_key"] or ""))
    summary = summarize(report)
    result = {"changed": bool(recorded), "ok": summary["ok"], "failures": summary["failures"], "report": report,
              "summary": summary["lines"], "verdict": summary["verdict"], "unknown_fields": unknown,
              "recorded": recorded}
    if not summary["ok"]:
        module.fail_json(msg="the API answered differently from what the collection reads: "
                             + "; ".join(summary["failures"]), **result)
    return result
