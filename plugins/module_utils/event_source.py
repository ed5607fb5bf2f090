"""What the event sources (extensions/eda/plugins/event_source/) share: their arguments, the client, the poll loop.

A source polls the API every `interval` seconds. A poll runs the synchronous client in a thread, so that the event
loop of ansible-rulebook stays responsive; the thread is a daemon, so that a source cancelled while a call is in
flight returns at once and never holds the process up (the sources only read: abandoning a read is harmless).
A failed poll puts one `<name>_error` event on the queue (one per run of failures, not one per attempt) and the next
poll waits longer, doubling up to `backoff_max`; the first poll that succeeds again goes back to `interval`.
A source gives way to the other processes of its key: while one of them is calling (the playbook a rule started,
reading then creating), the next poll waits, at most GIVE_WAY_MAX seconds (or one `interval`, if longer). A poll
slipped between that playbook's calls would push each of them back a full request interval, and its create a full
create interval after the poll (the limiter spaces a create from any call of the key); the source only reads, and
tells changes between two polls, so a later poll loses nothing.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from ansible_collections.clore.ai.plugins.module_utils.client import CloreClient
from ansible_collections.clore.ai.plugins.module_utils.common import OPTION_ENV, client_from_options
from ansible_collections.clore.ai.plugins.module_utils.errors import CloreConfigError, CloreError
from ansible_collections.clore.ai.plugins.module_utils.ratelimit import REQUEST

MIN_INTERVAL = 2.0
DEFAULT_INTERVAL = 60.0
DEFAULT_BACKOFF_MAX = 300.0
# A failed call is tried again at the next poll: within one poll the client retries for less than its default.
DEFAULT_SOURCE_RETRY_TIMEOUT = 30.0
# The waits between polls (a name of its own, so that a test can run them on a simulated clock).
_sleep = asyncio.sleep
# How often a poll that gives way looks again whether the key is free.
GIVE_WAY_STEP = 0.25
# The longest a poll gives way (or one interval, if longer): a playbook's path to its create fits in it (keep_fleet's
# spot_fleet.yml: five reads, then the create 5 s after the last, 11 s), and a key that another process keeps busy
# for ever still gets a poll that often.
GIVE_WAY_MAX = 20.0
# Another process counts as calling for this many request intervals after its last call: the work a playbook does
# between two calls (deciding, writing its records) stays well within the half interval added.
BUSY_INTERVALS = 1.5
# The arguments every source takes besides its own.
COMMON_ARGS = frozenset(OPTION_ENV) | {"interval", "backoff_max"}

Event = dict[str, Any]
Poll = Callable[[], list[Event]]


def check_args(args: Any, own: Iterable[str]) -> dict:
    """The source's arguments as a dict; CloreConfigError naming any argument the source does not know."""
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise CloreConfigError(f"the source's arguments must be a mapping, got {type(args).__name__}")
    unknown = sorted(set(args) - COMMON_ARGS - set(own))
    if unknown:
        known = ", ".join(sorted(COMMON_ARGS | set(own)))
        raise CloreConfigError(f"unknown argument(s) {', '.join(map(str, unknown))}; the arguments are {known}",
                               option=str(unknown[0]))
    return dict(args)


def seconds(args: dict, name: str, default: float, minimum: float) -> float:
    """args[name] as seconds, at least `minimum`; CloreConfigError naming the argument and the rule."""
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        raise CloreConfigError(f"{name} must be a number of seconds, got {value!r}", option=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CloreConfigError(f"{name} must be a number of seconds, got {value!r}", option=name) from None
    if not math.isfinite(number) or number < minimum:
        raise CloreConfigError(f"{name} must be at least {minimum:g} seconds, got {value!r}", option=name)
    return number


def poll_timing(args: dict) -> tuple[float, float]:
    """(interval, backoff_max) from the arguments: interval at least MIN_INTERVAL, backoff_max at least interval."""
    interval = seconds(args, "interval", DEFAULT_INTERVAL, MIN_INTERVAL)
    backoff_max = seconds(args, "backoff_max", max(DEFAULT_BACKOFF_MAX, interval), interval)
    return interval, backoff_max


def connection_option(args: dict, name: str) -> Any:
    """A connection argument, else its environment variable as in the modules (CLORE_API_KEY, CLORE_API_URL, ...)."""
    value = args.get(name)
    if value is None:
        value = os.environ.get(OPTION_ENV[name])
    if value is None and name == "api_retry_timeout":
        value = DEFAULT_SOURCE_RETRY_TIMEOUT
    return value


def source_client(args: dict, warn: Callable[[str], None] | None = None) -> CloreClient:
    """The collection's client from the connection arguments (connection_option), checked before any call as
    client_from_options does for the modules."""
    return client_from_options(lambda name: connection_option(args, name), warn=warn)


def others_calling(client: CloreClient) -> Callable[[], bool]:
    """A test of whether another process of the client's key is calling now (see the module's docstring)."""
    limiter = client.limiter
    within = BUSY_INTERVALS * limiter.spacing(REQUEST)
    return lambda: limiter.others_busy(within)


async def give_way(busy: Callable[[], bool], longest: float) -> float:
    """Wait while busy() says another process is calling, at most `longest` seconds; the seconds waited. A busy()
    that fails waits no more: the poll reports what is wrong with the state directory."""
    waited = 0.0
    while waited < longest:
        try:
            if not await in_thread(busy):
                break
        except Exception:  # pylint: disable=broad-except  # the poll that follows tells it
            break
        step = min(GIVE_WAY_STEP, longest - waited)
        await _sleep(step)
        waited += step
    return waited


def backoff_delay(failures: int, interval: float, backoff_max: float) -> float:
    """Seconds before the next poll after `failures` failed polls in a row: interval, doubled per failure, capped."""
    if failures <= 0:
        return interval
    return min(backoff_max, interval * 2 ** min(failures, 32))


def error_event(kind: str, err: Exception, failures: int, retry_in: float, secret: str | None = None) -> Event:
    """The one event of a run of failed polls: what failed, never a traceback, never the key (`secret`: the
    client's messages are redacted already; what else an answer carried is scrubbed here)."""
    message = str(err) if isinstance(err, CloreError) else f"{type(err).__name__}: the poll failed unexpectedly"
    event: Event = {"type": f"{kind}_error", "message": message, "retry_in": retry_in, "failures": failures}
    for name in ("endpoint", "http_status", "code", "reason"):
        value = getattr(err, name, None)
        if value is not None:
            event[name] = value
    return {name: scrub(value, secret) if isinstance(value, str) else value for name, value in event.items()}


def scrub(text: str, secret: str | None) -> str:
    """text with the key (`secret`, as the client sends it: stripped) replaced by <api_key>."""
    secret = secret.strip() if isinstance(secret, str) else None
    return text.replace(secret, "<api_key>") if secret else text


async def in_thread(function: Callable[[], Any]) -> Any:
    """function() run in a daemon thread; cancelling the await returns at once and abandons the thread."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = function(), None
        except Exception as exc:  # pylint: disable=broad-except  # handed to the awaiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the loop is closed: nobody waits for this result any more

    threading.Thread(target=run, name="clore-event-source-poll", daemon=True).start()
    return await future


async def run_source(queue: Any, kind: str, poll: Poll, interval: float, backoff_max: float,
                     logger: logging.Logger, close: Callable[[], None] | None = None,
                     secret: str | None = None, busy: Callable[[], bool] | None = None) -> None:
    """Poll forever: put each poll's events on the queue, wait `interval` (and, with `busy`, give way to other
    processes of the key, see the module's docstring); after a failure, one error event and a growing wait. Returns only
    when cancelled (the cancellation propagates), after `close()`."""
    failures = 0
    try:
        while True:
            try:
                events = await in_thread(poll)
            except Exception as err:  # pylint: disable=broad-except  # a source never dies of a failed poll
                failures += 1
                delay = backoff_delay(failures, interval, backoff_max)
                if not isinstance(err, CloreError):  # for whoever debugs it, the key scrubbed as from an event
                    logger.debug("%s source: the poll failed unexpectedly:\n%s", kind,
                                 scrub("".join(traceback.format_exception(err)), secret))
                if failures == 1:
                    event = error_event(kind, err, failures, delay, secret)
                    logger.warning("%s: %s; polling again in %g s", event["type"], event["message"], delay)
                    await queue.put(event)
                await _sleep(delay)
                continue
            if failures:
                logger.info("%s source: the API answers again after %d failed poll(s)", kind, failures)
            failures = 0
            for event in events:
                await queue.put(event)
            await _sleep(interval)
            if busy is not None:
                waited = await give_way(busy, max(interval, GIVE_WAY_MAX))
                if waited:
                    logger.debug("%s source: gave way %.2f s to another process of the key", kind, waited)
    finally:
        if close is not None:
            close()
