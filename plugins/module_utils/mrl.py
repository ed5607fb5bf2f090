"""How long a Clore.ai rental may last: `mrl`, in hours, between 6 and 3000 (Clore's guide).

One home for both readers of the bounds: a host's setting (_host/settings.py) and an order's mrl as sent
(flat_order.py). A module of its own, so that reading an order does not load the host side's machinery.
"""
from __future__ import annotations

MRL_MIN = 6
MRL_MAX = 3000
