"""Browser tests: Playwright driving Debian's Chromium against a live server on 127.0.0.1.

Skipped (with the reason) when Chromium or Playwright is missing, unless SAMSKAB_REQUIRE_E2E=1,
which CI sets so that it can never pass without running them.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from support import base_config
from volunteer import create_app, demo
from volunteer.extensions import db

CHROMIUM = os.environ.get("SAMSKAB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        return f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError:
        return "browser tests need playwright and axe-playwright-python (pip install -e .[dev])"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("SAMSKAB_REQUIRE_E2E") == "1":
        raise pytest.UsageError(f"SAMSKAB_REQUIRE_E2E=1 but {reason}")
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


@contextmanager
def _serve(app: Flask) -> Iterator[str]:
    """Seed the (small) Hedensted demo world and serve ``app`` on a free port in a thread."""
    with app.app_context():
        db.create_all()
        demo.seed(volunteers=40)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the (small) Hedensted demo world, served on a free port."""
    tmp = tmp_path_factory.mktemp("live")
    with _serve(create_app(base_config(tmp, WTF_CSRF_ENABLED=True))) as url:
        yield url


@dataclass
class MailSink:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address``, oldest first."""
        with self.lock:
            return [m for m in self.received if address in str(m["To"])]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[MailSink]:
    from aiosmtpd.controller import Controller

    sink = MailSink(port=_free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port, server_hostname="sink.test")
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass(frozen=True)
class Site:
    url: str
    app: Flask


@pytest.fixture(scope="module")
def mail_site(tmp_path_factory: pytest.TempPathFactory, smtp_sink: MailSink) -> Iterator[Site]:
    """Like ``live_server``, but the outbox is delivered over SMTP to ``smtp_sink`` and the links
    in emails point at this server. Tests run jobs in-process (``volunteer.scheduler.run_job``)
    and arrange data through ``site.app``."""
    tmp = tmp_path_factory.mktemp("mail")
    app = create_app(
        base_config(
            tmp,
            WTF_CSRF_ENABLED=True,
            SMTP_HOST=smtp_sink.host,
            SMTP_PORT=smtp_sink.port,
            SMTP_TIMEOUT_S=10,
        )
    )
    with _serve(app) as url:
        app.config["SITE_URL"] = url
        yield Site(url, app)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _new_page(browser, request: pytest.FixtureRequest, **options: Any) -> Iterator[object]:
    # axe is injected by Playwright's evaluate, which the site's CSP would otherwise refuse.
    context = browser.new_context(bypass_csp=True, locale="da-DK", **options)
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    yield from _new_page(browser, request)


@pytest.fixture
def tablet_page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page on a tablet held upright (768×1024, touch), as staff use on the floor."""
    yield from _new_page(
        browser,
        request,
        viewport={"width": 768, "height": 1024},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


PHONE_WIDTH = 390


@pytest.fixture
def phone(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page on a phone (390 CSS pixels wide, touch), as most volunteers read their mail."""
    yield from _new_page(
        browser,
        request,
        viewport={"width": PHONE_WIDTH, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
