"""Host-key policy for rented containers: one known_hosts file per order instead of disabled checking.

A container's key is new on every order, and Clore reuses public ports across orders. One shared known_hosts file
would either refuse a new order on a reused port or need checking turned off. A file per order, with
StrictHostKeyChecking=accept-new, trusts a new container on first contact and still refuses a key that changes
during the same order.
"""
from __future__ import annotations

import errno
import os
import shlex
from pathlib import Path

from ansible_collections.clore.ai.plugins.module_utils.ratelimit import default_state_dir
from ansible_collections.clore.ai.plugins.module_utils.records import private_dir

HOST_KEY_POLICIES = ("per_order", "strict", "off")


def known_hosts_dir(configured: str | None, state_dir: str | None = None) -> str:
    """The directory holding the per-order files: the configured one, else <state dir>/known_hosts."""
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    base = os.path.expanduser(str(state_dir)) if state_dir else str(default_state_dir())
    return os.path.abspath(os.path.join(base, "known_hosts"))


def known_hosts_file(directory: str, order_id: int, created_at: int | None) -> str:
    """The file for one order; the creation time keeps an order id reused by a reset simulator apart."""
    suffix = f"-{created_at}" if created_at is not None else ""
    return os.path.join(directory, f"order-{order_id}{suffix}")


def ensure_known_hosts_dir(directory: str) -> None:
    """ssh cannot record a key in a directory that does not exist: create it, private to the user.

    OSError when it cannot be created, or exists but cannot be written (ssh would fail on every host later).
    """
    private_dir(Path(directory))  # the state directory above it too, when this makes it
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), directory)


def ssh_common_args(policy: str, known_hosts: str | None = None) -> str | None:
    """The ansible_ssh_common_args for a policy.

    strict: the user's own known_hosts, which must already hold the key. off: no checking at all, for throwaway tests.
    """
    if policy == "per_order":
        if not known_hosts:
            raise ValueError("the per_order host-key policy needs a known_hosts file")
        return f"-o UserKnownHostsFile={shlex.quote(known_hosts)} -o StrictHostKeyChecking=accept-new"
    if policy == "strict":
        return "-o StrictHostKeyChecking=yes"
    if policy == "off":
        return "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no"
    raise ValueError(f"host_key_checking must be one of {', '.join(HOST_KEY_POLICIES)}, not {policy!r}")


def ssh_settings(order: dict, directory: str | None, policy: str) -> dict[str, str | None]:
    """known_hosts_file (None unless per_order) and ssh_common_args for one normalised order.

    The one place that turns an order and a policy into SSH settings, for the inventory's hosts and clore_order's
    result alike, so that a host reached either way uses the same file.
    """
    known_hosts = None
    if policy == "per_order":
        if not directory:
            raise ValueError("the per_order host-key policy needs a known_hosts directory")
        known_hosts = known_hosts_file(directory, order["id"], order.get("created_at"))
    return {"known_hosts_file": known_hosts, "ssh_common_args": ssh_common_args(policy, known_hosts)}
