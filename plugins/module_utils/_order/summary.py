"""The one-line `msg` of a clore_order result: what was rented, cancelled, kept, passed over (or would be)."""
from __future__ import annotations


def summary(result: dict, check_mode: bool) -> str:
    if check_mode:
        parts = []
        if result["would_create"]:
            rent = ", ".join(f"server {c['server_id']} at {c['price_per_day']} {c['currency']}/day"
                             + (f" ({c['currency_reason']})" if c.get("currency_reason") else "")
                             for c in result["would_create"])
            parts.append(f"would rent {rent}")
        if result["would_cancel"]:
            parts.append(f"would cancel order(s) {ids_text(result['would_cancel'])}")
        if result["would_reprice"]:
            parts.append("would change the bid of order(s) " + ids_text([r["id"] for r in result["would_reprice"]]))
        if result["shortfall"]["count"]:
            parts.append(f"the fleet would be {result['shortfall']['count']} short (allow_partial)")
        return "; ".join(parts) or "nothing to change"
    parts = []
    for key, verb in (("created", "rented"), ("adopted", "adopted after an unclear create"),
                      ("cancelled", "cancelled"), ("repriced", "changed the bid of"),
                      ("released", "released as surplus")):
        if result[key]:
            parts.append(f"{verb} order(s) {ids_text(result[key])}")
    if result["kept"]:
        parts.append(f"kept order(s) {ids_text(result['kept'])}")
    if result["outbid"]:
        parts.append("outbid order(s) " + ids_text([e["id"] for e in result["outbid"]]))
    short = result["shortfall"]
    if short["count"]:
        why = ", ".join(f"{reason}: {n}" for reason, n in short["reasons"].items()) or "none given"
        parts.append(f"the fleet is {short['count']} short (allow_partial; reasons: {why})")
    if result["skipped_servers"] and parts:
        passed = ", ".join(f"{s['server_id']} ({s['reason']})" for s in result["skipped_servers"])
        parts.append(f"passed over server(s) {passed}")
    return "; ".join(parts) or "nothing to change"


def ids_text(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)
