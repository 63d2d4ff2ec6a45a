"""Browser tests: Playwright driving Debian's Chromium against a live server on 127.0.0.1.

Skipped (with the reason) when Chromium or Playwright is missing, unless SAMSKAB_REQUIRE_E2E=1,
which CI sets so that it can never pass without running them.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
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


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the (small) Hedensted demo world, served on a free port."""
    tmp = tmp_path_factory.mktemp("live")
    app = create_app(base_config(tmp, WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
        demo.seed(volunteers=40)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    # axe is injected by Playwright's evaluate, which the site's CSP would otherwise refuse.
    context = browser.new_context(bypass_csp=True, locale="da-DK")
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
