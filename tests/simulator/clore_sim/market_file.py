"""A recorded marketplace answer served instead of the generated market (`--market-file FILE`).

The file is what the collection's clore_api_check records (`{"recorded": ..., "servers": [...], ...}`), a bare
marketplace answer, or a bare list of rows. Rows are served as recorded; only what the simulator needs to rent is
filled in where missing (`rented`, `allowed_coins`, `price.on_demand`/`spot`), and rows without an integer id are
left out (the real API's odd rows stay as they are otherwise)."""
from __future__ import annotations

import json
from pathlib import Path


class MarketFileError(ValueError):
    """The file cannot be served: the message says why."""


def load_market_file(path: Path) -> tuple[list[dict], int]:
    """(rows sorted by id, how many rows were left out)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise MarketFileError(f"--market-file {path}: cannot read it as JSON ({err})") from None
    rows = data.get("servers") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise MarketFileError(f"--market-file {path}: expected a marketplace answer with a servers list, or a list")
    servers, seen, skipped = [], set(), 0
    for row in rows:
        server_id = row.get("id") if isinstance(row, dict) else None
        if not isinstance(server_id, int) or isinstance(server_id, bool) or server_id in seen:
            skipped += 1
            continue
        seen.add(server_id)
        servers.append(_rentable(dict(row)))
    return sorted(servers, key=lambda s: s["id"]), skipped


def _rentable(row: dict) -> dict:
    price = row["price"] = dict(row["price"]) if isinstance(row.get("price"), dict) else {}
    for kind in ("on_demand", "spot"):
        if not isinstance(price.get(kind), dict):
            price[kind] = {}
    if not isinstance(row.get("allowed_coins"), list):
        row["allowed_coins"] = list(price["on_demand"])
    if not isinstance(row.get("rented"), bool):
        row["rented"] = False
    return row
