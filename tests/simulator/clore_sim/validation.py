"""Input checks answered with code 2 (invalid input data): the request's own problem, before any business rule."""
from __future__ import annotations

import json
import re
from typing import Any

from .config import CURRENCIES

ORDER_TYPES = ("on-demand", "spot")
ENV_JSON_MAX = 12_288
ENV_KEY_MAX = 128
ENV_VALUE_MAX = 1_536
SSH_PASSWORD_MAX = 32
SSH_KEY_MAX = 3_072
JUPYTER_TOKEN_MAX = 32
ISSUE_MAX = 2_048
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$")


class InvalidInput(Exception):
    """Answered as {"code": 2, "error": str(self)}."""


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def _optional_str(body: dict, name: str, limit: int | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters")
    return value


def _ports(value: Any) -> dict[int, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput('ports must be an object like {"22": "tcp"}')
    ports: dict[int, str] = {}
    for port_text, proto in value.items():
        if not (isinstance(port_text, str) and port_text.isdigit() and 1 <= int(port_text) <= 65535):
            raise InvalidInput(f"ports: {port_text!r} is not a port number (1-65535)")
        if proto not in ("tcp", "http"):
            raise InvalidInput(f'ports: {port_text} must map to "tcp" or "http", not {proto!r}')
        ports[int(port_text)] = proto
    if sum(1 for proto in ports.values() if proto == "http") > 1:
        raise InvalidInput("ports: at most one http port per order")
    return ports


def _env(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidInput("env must be an object of strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise InvalidInput(f"env: the value of {key!r} must be a string")
        if not key or len(key) > ENV_KEY_MAX:
            raise InvalidInput(f"env: keys must be 1-{ENV_KEY_MAX} characters")
        if len(item) > ENV_VALUE_MAX:
            raise InvalidInput(f"env: the value of {key!r} is longer than {ENV_VALUE_MAX} characters")
    if len(json.dumps(value)) > ENV_JSON_MAX:
        raise InvalidInput(f"env: longer than {ENV_JSON_MAX} characters as JSON")


def create_order(body: Any) -> dict:
    """The normalised request, or InvalidInput."""
    body = require_object(body)
    server_id = body.get("renting_server")
    if not is_int(server_id):
        raise InvalidInput("renting_server is required and must be an integer")
    order_type = body.get("type")
    if order_type not in ORDER_TYPES:
        raise InvalidInput('type is required: "on-demand" or "spot"')
    currency = body.get("currency")
    if currency not in CURRENCIES:
        raise InvalidInput(f"currency is required: one of {', '.join(CURRENCIES)}")
    image = body.get("image")
    if not isinstance(image, str) or not IMAGE_RE.match(image):
        raise InvalidInput("image is required: a Docker image name")
    spotprice = body.get("spotprice")
    if order_type == "spot":
        if not is_number(spotprice) or spotprice <= 0:
            raise InvalidInput("spotprice is required for spot orders: a positive number (per day)")
    elif spotprice is not None and not is_number(spotprice):
        raise InvalidInput("spotprice must be a number")
    ports = _ports(body.get("ports"))
    _env(body.get("env"))
    password = _optional_str(body, "ssh_password")
    if password is not None and (len(password) > SSH_PASSWORD_MAX or not re.fullmatch(r"[A-Za-z0-9]+", password)):
        raise InvalidInput(f"ssh_password must be 1-{SSH_PASSWORD_MAX} letters and digits")
    ssh_key = _optional_str(body, "ssh_key", SSH_KEY_MAX)
    _optional_str(body, "jupyter_token", JUPYTER_TOKEN_MAX)
    command = _optional_str(body, "command")
    required_price = body.get("required_price")
    if required_price is not None and not is_number(required_price):
        raise InvalidInput("required_price must be a number")
    for flag in ("autossh_entrypoint", "remember_password"):
        if body.get(flag) is not None and not isinstance(body[flag], bool):
            raise InvalidInput(f"{flag} must be a boolean")
    # Credentials of a private Docker Hub image: their format is not documented; only whether they came is kept.
    dockerhub_auth = _optional_str(body, "dockerhub_auth")
    return {
        "server_id": server_id,
        "type": order_type,
        "currency": currency,
        "image": image,
        "spotprice": float(spotprice) if order_type == "spot" else None,
        "ports": ports,
        "ssh_password": password,
        "ssh_key": ssh_key.strip() if ssh_key else None,
        "command": command,
        "required_price": float(required_price) if required_price is not None else None,
        "private_image": bool(dockerhub_auth),
        "remember_password": bool(body.get("remember_password")),
    }


def order_id(body: Any, name: str) -> int:
    body = require_object(body)
    value = body.get(name)
    if not is_int(value):
        raise InvalidInput(f"{name} is required and must be an integer")
    return value


def issue(body: dict) -> str | None:
    return _optional_str(body, "issue", ISSUE_MAX)
