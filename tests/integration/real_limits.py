"""The Clore.ai API's real rate limits, as the tests that count 429s give them to clore-sim.

These tests show that the collection's limiter spaces requests: with it, no request reaches clore-sim sooner than
the interval allows; without it, forks send requests milliseconds apart and draw hundreds of 429s. clore-sim stamps a
request when the kernel received it, so its own handler threads' delays do not count. `make test` runs these tests
beside everything else on a 2-core machine, where a controller process can still be run late between leaving the
limiter and sending (0.25 s of slack once let a 429 through at load 12); RATE_TOLERANCE is the slack that lets the
tests check the limiter rather than the CPU scheduler. A limiter that spaced requests by less than half the interval
would still draw 429s, and one that spaced them by less than the interval on average fails the tests' elapsed-time
checks. clore-sim's own default (0.02 s) is what users get, and `make bench` measures the limiter's margin against it.
"""
from __future__ import annotations

REQUEST_INTERVAL = 1.0
CREATE_INTERVAL = 5.0
RATE_TOLERANCE = 0.5
