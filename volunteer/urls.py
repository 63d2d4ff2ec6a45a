"""Absolute links for emails and calendar feeds, which are built outside any request (in
scheduler jobs, CLI commands) as often as inside one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app


def external_url(endpoint: str, **values: Any) -> str:
    """``SITE_URL`` + the path of ``endpoint``, e.g. 'https://samskab.dk/opgaver/4'."""
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path or "/", url_scheme=site.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["external_url"] = external_url
