"""In the browser, on a phone: a coordinator's first single sign-on through a real OpenID
provider (oidc-provider-mock on 127.0.0.1), confirmed with the password; a centre staff member
sets up two-factor login and logs in with a code. axe-core checks every Samskab page on the way."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pyotp
import pytest
from werkzeug.serving import make_server

from e2e_helpers import _log_in, assert_accessible
from support import base_config
from support.oidc import mock_provider, provider_settings, set_mock_user
from volunteer import create_app, demo
from volunteer.extensions import db


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo world with the municipality's provider (the mock) configured; (site, provider)."""
    with mock_provider() as provider_url:
        tmp = tmp_path_factory.mktemp("sso")
        providers = {"entra": provider_settings(provider_url, label="Hedensted Kommune")}
        app = create_app(base_config(tmp, WTF_CSRF_ENABLED=True, OIDC_PROVIDERS=providers))
        with app.app_context():
            db.create_all()
            demo.seed(volunteers=10)
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}"
        app.config["SITE_URL"] = url  # the redirect URI the provider sends the browser back to
        try:
            yield url, provider_url
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()


def _offline(page) -> None:  # type: ignore[no-untyped-def]
    # The mock's own page links a stylesheet on a CDN: nothing may be downloaded.
    page.route(re.compile(r"^https://"), lambda route: route.abort())


def test_a_coordinator_logs_in_through_the_municipality_and_confirms_once(phone, sso_site):
    site, provider = sso_site
    set_mock_user(provider, "anne-entra", email="koordinator@example.org", email_verified=True)
    _offline(phone)
    phone.goto(f"{site}/konto/log-ind")
    assert_accessible(phone)
    phone.get_by_role("link", name="Log ind med Hedensted Kommune").click()
    phone.wait_for_url(f"{provider}/**")
    phone.locator("input[name=sub]").fill("anne-entra")
    phone.get_by_role("button", name="Authorize").click()
    phone.wait_for_url(f"{site}/konto/oidc/forbind")
    assert phone.get_by_role("heading", name="Bekræft med din adgangskode").is_visible()
    assert_accessible(phone)
    phone.get_by_label("Din adgangskode til Samskab").fill(demo.DEMO_PASSWORD)
    phone.get_by_role("button", name="Bekræft og log ind").click()
    phone.wait_for_url(f"{site}/koordinator/")
    assert_accessible(phone)
    # Next time the provider alone logs the coordinator in.
    phone.get_by_role("button", name="Log ud").click()
    phone.goto(f"{site}/konto/log-ind")
    phone.get_by_role("link", name="Log ind med Hedensted Kommune").click()
    phone.wait_for_url(f"{provider}/**")
    phone.locator("input[name=sub]").fill("anne-entra")
    phone.get_by_role("button", name="Authorize").click()
    phone.wait_for_url(f"{site}/koordinator/")


def test_centre_staff_set_up_two_factor_and_log_in_with_a_code(phone, sso_site):
    site, _provider = sso_site
    _log_in(phone, site, "bakkegaarden@example.org")
    phone.goto(f"{site}/konto/")
    phone.get_by_role("link", name="Sæt totrinslogin op").click()
    phone.wait_for_url(f"{site}/konto/to-faktor")
    assert phone.locator("figure.qr-code svg").is_visible()
    assert_accessible(phone)
    secret = phone.locator("code.totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    phone.get_by_label("Kode").fill(totp.now())
    phone.get_by_role("button", name="Slå totrinslogin til").click()
    assert phone.get_by_role("heading", name="Totrinslogin er slået til").is_visible()
    assert phone.locator("ul.recovery-codes li").count() == 10
    assert_accessible(phone)
    phone.get_by_role("link", name="Jeg har skrevet dem ned").click()
    phone.get_by_role("button", name="Log ud").click()

    phone.goto(f"{site}/konto/log-ind")
    phone.get_by_label("E-mail").fill("bakkegaarden@example.org")
    phone.get_by_label("Adgangskode").fill(demo.DEMO_PASSWORD)
    phone.get_by_role("button", name="Log ind").last.click()
    phone.wait_for_url(f"{site}/konto/to-faktor/kode")
    assert_accessible(phone)
    phone.get_by_label("Kode").fill(totp.at(time.time() + 30))  # a newer code than the first
    phone.get_by_role("button", name="Log ind").last.click()
    phone.wait_for_url(f"{site}/center/")


def test_the_administrators_login_settings_are_accessible(phone, sso_site):
    site, _provider = sso_site
    _log_in(phone, site, "admin@example.org")
    phone.goto(f"{site}/admin/login")
    assert phone.get_by_role("heading", name="Indstillinger for log ind").is_visible()
    assert_accessible(phone)
