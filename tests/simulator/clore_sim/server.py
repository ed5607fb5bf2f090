"""The HTTP front: auth, rate limits, faults, then the endpoint. Every answer is JSON (or, for an injected 502,
the plain text a proxy sends); no request, however malformed, gets a traceback or an HTML page."""
from __future__ import annotations

import io
import json
import socket
import sys
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import arrival
from .api import Reply
from .faults import deepened
from .ratelimit import retry_after_header

if TYPE_CHECKING:
    from .app import Simulator

MAX_BODY = 1_048_576
ADMIN_HEADER = "X-Clore-Sim-Admin"


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        super().server_bind()
        arrival.enable(self.socket)  # before any client connects: the kernel starts stamping a moment later


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "clore-sim"
    sys_version = ""
    timeout = 300  # seconds an idle keep-alive connection (and its thread) may wait for its next request
    server: SimHTTPServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the buffered socket file setup() made: read through the stamping reader instead
        self._reader = arrival.StampedReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.mark()
        super().handle_one_request()

    # When the request reached the machine (arrival.py), known once its request line is read.
    def parse_request(self) -> bool:
        self.arrival = self._reader.arrival()
        return super().parse_request()

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header in clore-sim's clock (--clock-offset), like every other time it reports."""
        if timestamp is None:
            sim = self.server.simulator
            timestamp = sim.store.now() + sim.config.clock_offset
        return super().date_time_string(timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.simulator.config.quiet:
            sys.stderr.write(f"clore-sim: {self.address_string()} {format % args}\n")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The server's own protocol errors (bad request line, header too long ...) as JSON too."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line and headers even to garbage
        body = {"code": 4 if code in (404, 405, 501) else 2, "error": message or HTTPStatus(code).phrase}
        try:
            self._write(Reply(code, body))
        except OSError:
            pass

    # ----- plumbing -----
    def _write(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            payload, content_type = reply.body, "application/json"
        elif isinstance(reply.body, dict):
            payload, content_type = json.dumps(reply.body).encode(), "application/json"
        else:
            payload, content_type = str(reply.body).encode(), "text/plain; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes | None:
        """The raw body; None when it cannot be read (the connection is then closed)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _drop(self) -> None:
        """Close the connection without an answer, as a proxy that lost the upstream does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self) -> None:
        try:
            self._route()
        except Exception:  # a bug of the simulator: still a JSON answer, the traceback only on its stderr
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._write(Reply(500, {"code": 1, "error": "internal error of clore-sim"}))
            except OSError:
                pass

    def _rate_limited(self, wait: float) -> Reply:
        """A 429 with {"code": 5}; a Retry-After header only with --retry-after header (recorded answers had none)."""
        header = self.server.simulator.config.retry_after == "header"
        return Reply(429, {"code": 5}, {"Retry-After": retry_after_header(wait)} if header else {})

    def _route(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = self._read_body()
        if raw is None:
            self.close_connection = True
            self._write(Reply(400, {"code": 2, "error": "the body must be sent with a Content-Length up to 1 MB"}))
            return
        sim = self.server.simulator
        if path == "/_sim" or path.startswith("/_sim/"):
            self._write(sim.admin.handle(self.command, path[len("/_sim/"):], self.headers.get(ADMIN_HEADER), raw))
            return
        if not path.startswith("/v1/"):
            self._write(Reply(404, {"code": 4, "error": "invalid endpoint"}))
            return
        endpoint = path[len("/v1/"):]
        key = self.headers.get("auth")
        sim.counters.request(endpoint, key or "", self.command)
        if not key or not sim.has_account(key):
            self._write(Reply(401, {"code": 3, "error": "invalid api token"}))
            return
        wait = sim.limiter.admit(key, self.arrival, is_create=endpoint == "create_order")
        if wait is not None:
            sim.counters.add("rate_limited")
            # Logged even with --quiet (no request log): a 429 is rare under a working limiter and worth its line.
            gap = sim.limiter.nearest(key, self.arrival)
            where = "" if gap is None else \
                f" (arrived {abs(gap):.3f} s {'after' if gap >= 0 else 'before'} an accepted request, at {self.arrival:.3f})"
            sys.stderr.write(f"clore-sim: {self.address_string()} 429 on {endpoint}: {wait:.3f} s sooner than the "
                             f"key's interval allows{where}\n")
            self._write(self._rate_limited(wait))
            return
        handler = sim.api.routes.get((self.command, endpoint))
        if handler is None:
            self._write(Reply(404, {"code": 4, "error": "invalid endpoint"}))
            return
        fault = sim.faults.take(endpoint)
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.delay)
            elif fault.kind == "code1":
                self._write(Reply(200, {"code": 1}))
                return
            elif fault.kind == "http500":
                self._write(Reply(500, {"code": 1}))
                return
            elif fault.kind == "http502":
                self._write(Reply(502, "error code: 502"))
                return
            elif fault.kind == "cloudflare_1010":  # Cloudflare in front of the API blocking this client
                self._write(Reply(403, "error code: 1010"))
                return
            elif fault.kind == "rate_limit":
                sim.counters.add("rate_limited")
                self._write(self._rate_limited(1.0))
                return
        body: Any = {}
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                self._write(Reply(200, {"code": 2, "error": "the body is not valid JSON"}))
                return
        reply = handler(key, query, body)
        if fault is not None and fault.kind == "drop_after_commit":
            self._drop()
            return
        if fault is not None and fault.kind == "code1_after_commit":
            reply = Reply(200, {"code": 1})
        if fault is not None and fault.kind in ("deep_row", "deep_answer") and reply.status == 200:
            reply = Reply(reply.status, deepened(reply.body, fault.kind), reply.headers)
        self._write(reply)
