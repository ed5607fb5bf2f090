"""What one clore_order task asks for, typed and already checked: the only input the order machinery reads.

args.order_request() builds it once from the module's parameters, after every rule; nothing rewrites it later.
Secrets (ssh_password, jupyter_token, env, dockerhub_auth) are left out of its repr.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ON_DEMAND = "on-demand"
SPOT = "spot"
FLEET = "fleet"
# Without `ports`, SSH only: so that the order can be reached and waited for.
DEFAULT_PORTS = {"22": "tcp"}


@dataclass(frozen=True)
class Terms:
    """How a server is chosen and paid for: the order type, the coins, the caps and the spot bid."""

    type: str = ON_DEMAND
    currency: str | None = None  # the one coin, in the API's spelling (also `currencies` with one coin)
    currencies: list[str] | None = None  # the coins the order may pay in; None: any the server accepts
    max_price: dict | None = None  # {amount, currency, type, per}
    spot_price: float | None = None
    spot_max_price: float | None = None
    spot_bid_step: float | None = None
    spot_rebid: bool | None = None
    spot_candidates: int = 10
    budget: dict | None = None  # {amount, currency}: one fleet's daily cap
    account_budget: dict | None = None  # {amount, currency}: every active order of the key
    usd_rates: dict[str, float] | None = None

    @property
    def spot(self) -> bool:
        return self.type == SPOT

    @property
    def bids_up_to_cap(self) -> bool:
        """spot_max_price: the module chooses each bid, the least that wins within the cap."""
        return self.spot and self.spot_max_price is not None

    @property
    def rebids(self) -> bool:
        return self.bids_up_to_cap and self.spot_rebid is not False

    @property
    def wanted(self) -> list[str] | str | None:
        """The coins an offer may be paid in: `currencies`, else `currency`."""
        return self.currencies or self.currency


def env_strings(env: dict | None) -> dict[str, str]:
    """env as Clore takes it: every value a string (YAML may have given numbers or booleans)."""
    return {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (env or {}).items()}


@dataclass(frozen=True)
class Container:
    """What each order runs: the create_order fields besides the server, its currency and its bid."""

    image: str | None = None  # without docker.io/
    ports: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    env: dict | None = field(default=None, repr=False)
    ssh_key: str | None = None
    ssh_password: str | None = field(default=None, repr=False)
    jupyter_token: str | None = field(default=None, repr=False)
    command: str | None = None
    required_price: float | None = None
    autossh_entrypoint: bool | None = None
    dockerhub_auth: str | None = field(default=None, repr=False)
    remember_password: bool | None = None

    # create_order takes these as they are, when given.
    PASSED_AS_IS = ("ssh_key", "ssh_password", "jupyter_token", "command", "required_price", "autossh_entrypoint",
                    "dockerhub_auth", "remember_password")

    def __post_init__(self) -> None:
        if self.env:  # as Clore takes it: every value a string
            object.__setattr__(self, "env", env_strings(self.env))

    def as_is_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PASSED_AS_IS if getattr(self, name) is not None}


@dataclass(frozen=True)
class Fleet:
    """count: how many orders of the image, chosen from the market by `filters` and `sort_by`."""

    count: int
    exact: bool = False
    allow_partial: bool = False
    surplus: str = "release"  # or "keep": members beyond count after another run rented at the same time
    sort_by: str = "price"
    descending: bool = False


@dataclass(frozen=True)
class OrderRequest:
    """One clore_order task: which orders (mode), what they run, how they are paid, and what the task may do."""

    mode: str  # "order_id", "server_id" or FLEET
    state: str = "present"
    order_id: int | None = None
    server_id: int | None = None
    fleet: Fleet | None = None
    filters: dict[str, Any] = field(default_factory=dict)  # the market filters given, normalised
    terms: Terms = field(default_factory=Terms)
    container: Container = field(default_factory=Container)
    recreate: bool = False
    wait: bool = True
    wait_timeout: int = 900
    reconcile_timeout: int = 60
    max_attempts: int = 5
    cancel_on_failure: bool = False
    issue: str | None = None
    missing_ok: bool = False
    bad_server_ttl: float = 24.0  # hours; 0: the memory of bad servers is off
    lifetime_hours: float | None = None
    known_hosts_dir: str | None = None
    host_key_checking: str = "per_order"

    @property
    def image(self) -> str | None:
        return self.container.image

    @property
    def present(self) -> bool:
        return self.state == "present"

    @property
    def count(self) -> int:
        """A fleet's count (0 outside a fleet)."""
        return self.fleet.count if self.fleet is not None else 0
