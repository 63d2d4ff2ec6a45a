"""A fake SMS gateway over real HTTP (GatewayAPI.com style), for the tests and bench/sms.py.

A threaded HTTP/1.1 server on 127.0.0.1 on a free port. POST / takes
``{sender, message, recipients: [{msisdn}], userref}`` with ``Authorization: Token <token>``
and answers ``{"ids": [<id>]}``. ``mode`` decides the answer: "accept", "reject" (400),
"error" (503), "timeout" (answers only after ``delay_s``). A repeated ``userref`` gets the id it
got before and is not counted again (``resubmitted`` counts those).

Delivery reports: with ``report`` set (e.g. "DELIVERED"), every accepted message gets one,
signed like the real gateway's, POSTed to ``webhook_url`` — held until ``flush_reports()``
(a late report) or sent at once when ``report_at_once``.

Standard library only, so the benchmark can run it in its own process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "fake-gateway-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class FakeGateway:
    mode: str = "accept"
    delay_s: float = 2.0
    report: str | None = None
    report_at_once: bool = False
    webhook_url: str | None = None
    secret: str = "webhook-secret"
    token: str = TOKEN
    keep_messages: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    accepted: int = 0
    resubmitted: int = 0
    report_answers: list[int] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _held: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self, port: int | None = None) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer goes out in one write (headers and body), without Nagle's delay:
            # otherwise every keep-alive request waits for a delayed ACK (~40 ms).
            wbufsize = 1 << 16

            def setup(self) -> None:
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = gateway._answer(self.headers.get("Authorization"), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, authorization: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
        if authorization != f"Token {self.token}":
            return 401, {"code": "0x0004", "message": "Unauthorized"}
        if self.mode == "timeout":
            time.sleep(self.delay_s)
        if self.mode == "error":
            return 503, {"message": "Service unavailable"}
        try:
            payload = json.loads(body)
            msisdn = int(payload["recipients"][0]["msisdn"])
            message = str(payload["message"])
        except (ValueError, KeyError, IndexError, TypeError):
            return 422, {"message": "Bad request"}
        if self.mode == "reject" or not message:
            return 400, {"code": "0x0213", "message": "Invalid recipient"}
        with self._lock:
            reference = str(payload.get("userref") or "")
            if reference and reference in self._ids:
                self.resubmitted += 1
                return 200, {"ids": [self._ids[reference]]}
            self.accepted += 1
            message_id = 100_000 + self.accepted
            if reference:
                self._ids[reference] = message_id
            if self.keep_messages:
                self.received.append(payload)
            if self.report:
                held = {"id": message_id, "msisdn": msisdn, "status": self.report}
                held |= {"time": int(time.time()), "error": None, "userref": reference}
                self._held.append(held)
        if self.report and self.report_at_once:
            threading.Thread(target=self.flush_reports, daemon=True).start()
        return 200, {"ids": [message_id]}

    def flush_reports(self, status: str | None = None) -> list[int]:
        """POST the held reports (with ``status`` instead, if given) to the webhook; returns
        the HTTP status of each answer."""
        with self._lock:
            held, self._held = self._held, []
        answers = []
        for report in held:
            answers.append(self.post_report(report | ({"status": status} if status else {})))
        return answers

    def post_report(self, report: dict[str, Any], *, secret: str | None = None) -> int:
        """POST one report to the webhook, signed (with ``secret`` if given)."""
        assert self.webhook_url is not None
        body = json.dumps(report).encode()
        request = urllib.request.Request(
            self.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Samskab-Signature": sign(body, secret or self.secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.report_answers.append(status)
        return status


def run_forever(port: int, ready: Any, counters: Any, stop: Any) -> None:
    """The benchmark's gateway process: accept everything, count, until ``stop`` is set."""
    gateway = FakeGateway(keep_messages=False).start(port)
    ready.set()
    while not stop.wait(0.05):
        counters[0], counters[1], counters[2] = (
            gateway.requests,
            gateway.accepted,
            gateway.resubmitted,
        )
    counters[0], counters[1], counters[2] = gateway.requests, gateway.accepted, gateway.resubmitted
    gateway.stop()
