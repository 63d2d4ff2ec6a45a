"""Real OpenID providers over HTTP on 127.0.0.1 for the login tests: the well-kept test provider
``oidc-provider-mock`` (PyPI, a dev dependency), and a small provider of our own (``OwnProvider``)
whose answers a test can spoil on purpose: a wrong nonce, an expired or tampered ID token, a
foreign issuer, claims the real providers send (roles, a CPR number)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import oidc_provider_mock
import requests
import werkzeug.serving
from flask import Flask, abort, jsonify, redirect, request
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "samskab-test"
CLIENT_SECRET = secrets.token_urlsafe(16)  # per run: no literal secret in the repository


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run a WSGI app on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def mock_provider() -> Iterator[str]:
    """oidc-provider-mock: any client id and secret; users are set with ``set_mock_user``."""
    with serve(oidc_provider_mock.app(require_nonce=True)) as url:
        yield url


def set_mock_user(url: str, sub: str, **claims: Any) -> None:
    requests.put(f"{url}/users/{sub}", json=claims, timeout=5).raise_for_status()


class OwnProvider:
    """A minimal provider: discovery, keys, an authorization endpoint that logs in at once and a
    token endpoint that checks the code, the client and the PKCE verifier. Each tenant
    (``/<tenant>``) is a separate issuer (``impostor``'s discovery document names another one).
    ``answer`` spoils the next ID token:
    ``wrong_nonce``, ``expired``, ``tampered``, ``foreign_issuer``, ``wrong_audience``."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "own-1", "use": "sig"})
        self.claims: dict[str, Any] = {}
        self.answer = "ok"
        self.codes: dict[str, dict[str, Any]] = {}
        self.discovery_fetches = 0
        self.url = ""
        self.app = self._build()

    def issuer(self, tenant: str) -> str:
        return f"{self.url}/{tenant}"

    def reset(self, **claims: Any) -> None:
        self.claims = claims
        self.answer = "ok"

    def _build(self) -> Flask:
        app = Flask("own_provider")
        own = self

        @app.get("/<tenant>/.well-known/openid-configuration")
        def discovery(tenant: str):  # type: ignore[no-untyped-def]
            base = own.issuer(tenant)
            own.discovery_fetches += 1
            return jsonify(
                # The tenant "impostor" publishes a document naming another issuer.
                issuer="https://login.example.invalid/other" if tenant == "impostor" else base,
                authorization_endpoint=f"{base}/authorize",
                token_endpoint=f"{base}/token",
                jwks_uri=f"{base}/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
            )

        @app.get("/<tenant>/jwks")
        def jwks(tenant: str):  # type: ignore[no-untyped-def]
            return jsonify(KeySet([own.key]).as_dict(private=False))

        @app.get("/<tenant>/authorize")
        def authorize(tenant: str):  # type: ignore[no-untyped-def]
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("code_challenge_method") != "S256":
                abort(400)
            code = secrets.token_urlsafe(16)
            own.codes[code] = {
                "tenant": tenant,
                "nonce": args.get("nonce"),
                "challenge": args["code_challenge"],
                "redirect_uri": args["redirect_uri"],
            }
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/<tenant>/token")
        def token(tenant: str):  # type: ignore[no-untyped-def]
            form = request.form
            grant = own.codes.pop(form.get("code", ""), None)
            auth = request.authorization
            client_ok = (auth and (auth.username, auth.password) == (CLIENT_ID, CLIENT_SECRET)) or (
                form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
            )
            if grant is None or not client_ok or grant["redirect_uri"] != form.get("redirect_uri"):
                return jsonify(error="invalid_grant"), 400
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            return jsonify(
                access_token=secrets.token_urlsafe(16),
                token_type="Bearer",
                expires_in=300,
                id_token=own._id_token(tenant, grant["nonce"]),
            )

        return app

    def _id_token(self, tenant: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer(tenant),
            "sub": "own-subject",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.claims,
        }
        if self.answer == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-we-sent"
        elif self.answer == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif self.answer == "foreign_issuer":
            claims["iss"] = "https://login.example.invalid/other-tenant"
        elif self.answer == "wrong_audience":
            claims["aud"] = "someone-else"
        token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        if self.answer == "tampered":  # change the payload, keep the signature
            header, payload, signature = token.split(".")
            data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            data = data.replace(b'"own-subject"', b'"someone-else"')
            payload = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
            token = ".".join((header, payload, signature))
        return token


@contextmanager
def own_provider() -> Iterator[OwnProvider]:
    provider = OwnProvider()
    with serve(provider.app) as url:
        provider.url = url
        yield provider


def provider_settings(issuer: str, **settings: Any) -> dict[str, Any]:
    return {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **settings}


def follow_to_provider(client: FlaskClient, start: str, *, sub: str | None = None) -> Any:
    """Start a login at ``start`` on Samskab, let the provider answer over real HTTP (the mock:
    log in as ``sub``), and bring the answer back to Samskab's callback. Returns that response."""
    response = client.get(start)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    if sub is None:
        answer = requests.get(location, allow_redirects=False, timeout=5)
    else:
        answer = requests.post(location, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text[:300]
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")
