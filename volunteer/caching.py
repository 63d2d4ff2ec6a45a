"""A short-lived cache of whole public pages, for visitors who are not logged in.

The public list of needs is the busiest page and is the same for every anonymous visitor
(per address and language), so rendering it once per ``ANONYMOUS_PAGE_CACHE_S`` seconds and
process is enough. Logged-in users, and anyone with a message waiting to be shown, always get
a fresh page. Anonymous pages carry no per-session token, so a cached copy is safe to share.
The price is that open places may lag by that many seconds; the need page of a logged-in
volunteer, and sign-up itself, are always exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, request, session
from flask_login import current_user

from volunteer.i18n import select_locale

MAX_ENTRIES = 512
F = TypeVar("F", bound=Callable[..., Any])


def anonymous_page_cache(view: F) -> F:
    """Serve a copy of the rendered page to anonymous visitors for a few seconds."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        ttl = current_app.config["ANONYMOUS_PAGE_CACHE_S"]
        if not ttl or current_user.is_authenticated or session.get("_flashes"):
            return view(*args, **kwargs)
        store: dict[tuple[str, str], tuple[float, str]] = current_app.extensions["page_cache"]
        key = (request.full_path, select_locale())
        now = time.monotonic()
        hit = store.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        page = view(*args, **kwargs)
        if isinstance(page, str):
            if len(store) >= MAX_ENTRIES:
                store.clear()  # simple bound; the pages are cheap to rebuild
            store[key] = (now + ttl, page)
        return page

    return wrapped  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.extensions["page_cache"] = {}
