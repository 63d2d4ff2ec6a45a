"""Absolute links for emails and calendar feeds, which are built outside any request (in
scheduler jobs, CLI commands) as often as inside one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.routing import IntegerConverter

# Ids are 32-bit in the database; a larger number in a URL or a form can match no row, and
# PostgreSQL would refuse it with an error rather than find nothing.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: numbers beyond the database's ids do not match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def page_number() -> int:
    """The ``side`` query parameter as a page number from 1 (nonsense and huge numbers give a
    page that can exist: the last pages simply come back empty)."""
    page = request.args.get("side", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


def form_id(value: str | None) -> int | None:
    """A record id from form data, or None when it is not one that could exist."""
    if value is None or not value.isdecimal():
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def external_url(endpoint: str, **values: Any) -> str:
    """``SITE_URL`` + the path of ``endpoint``, e.g. 'https://samskab.dk/opgaver/4'."""
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path or "/", url_scheme=site.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["external_url"] = external_url
