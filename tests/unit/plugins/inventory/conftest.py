"""Run the clore.ai.clore inventory plugin in-process against a stand-in client (the API is not reached here)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]


class StubClient:
    """Stands in for CloreClient: serves a fixed order list and counts the calls."""

    def __init__(self, orders: list[Any], error: Exception | None = None) -> None:
        self.orders = orders
        self.error = error
        self.calls = 0

    def my_orders(self, return_completed: bool = False) -> list[Any]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [dict(o) if isinstance(o, dict) else o for o in self.orders]

    def close(self) -> None:
        pass


class ParsedInventory:
    """The outcome of one parse: the inventory data, the warnings shown, and the stand-in client."""

    def __init__(self, plugin: Any, inventory: Any, warnings: list[str], client: StubClient) -> None:
        self.plugin = plugin
        self.data = inventory
        self.warnings = warnings
        self.client = client

    @property
    def hosts(self) -> list[str]:
        return sorted(self.data.hosts)

    def vars(self, host: str) -> dict[str, Any]:
        return self.data.get_host(host).get_vars()

    def group(self, name: str) -> list[str]:
        return sorted(self.data.get_groups_dict().get(name, []))


@pytest.fixture
def parse_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ParsedInventory]:
    """parse_inventory(config, orders, *, error=None, cache=True, file_name="clore.yml") -> ParsedInventory.

    Each parse gets a fresh stand-in client serving `orders` (or raising `error`), so `.client.calls` counts the
    API calls of that one parse.
    """
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    for name in ("CLORE_API_KEY", "CLORE_API_URL", "CLORE_STATE_DIR", "CLORE_KNOWN_HOSTS_DIR"):
        monkeypatch.delenv(name, raising=False)

    def parse(config: dict[str, Any], orders: list[Any] | None = None, *, error: Exception | None = None,
              cache: bool = True, file_name: str = "clore.yml") -> ParsedInventory:
        client = StubClient(orders or [], error)
        path = tmp_path / file_name
        settings = {"plugin": "clore.ai.clore", "api_key": "unit-test-key", "api_url": "http://127.0.0.1:9/v1",
                    "known_hosts_dir": str(tmp_path / "known_hosts")} | config
        # None removes a setting, so that its environment variable or default applies.
        path.write_text(yaml.safe_dump({key: value for key, value in settings.items() if value is not None}))
        plugin = inventory_loader.get("clore.ai.clore")
        module = sys.modules[type(plugin).__module__]
        monkeypatch.setattr(module, "client_from_options", lambda get_option, warn=None: client)
        warnings: list[str] = []
        monkeypatch.setattr(plugin.display, "warning", lambda msg, *a, **k: warnings.append(str(msg)))
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=cache)
        if getattr(plugin, "_cache", None) is not None:
            plugin.update_cache_if_changed()
        return ParsedInventory(plugin, inventory, warnings, client)

    return parse
