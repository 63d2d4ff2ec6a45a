"""Bearer links in emails: links that act or log in without a password (a password reset, a
centre's one-click confirm). Whoever holds one can use it, so none is ever stored.

A template renders a ``BearerLink`` where the URL goes. While ``enqueue`` renders, that writes a
marker (``[[link:0]]``) into the stored text and records what the link is for — its kind and
the ids it needs, nothing secret — in the message's ``links``. Only delivery turns a marker into
a URL, minting a fresh token at that moment (so a message sent again carries a new one); every
page that shows a stored message shows "[link skjult]" instead. A marker typed into user text
(a name, a title) can only repeat a link that the same message already carries to the same
recipient, so it cannot be used to mint a link for someone else.

Each kind has one minter, registered by the module that owns the token (auth: password reset
and email change; centres: one-click visit links).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape

log = logging.getLogger("samskab.outbox")

MARKER = re.compile(r"\[\[link:(\d+)\]\]")

Spec = dict[str, Any]
Minter = Callable[..., str | None]

_minters: dict[str, Minter] = {}
_collecting: ContextVar[list[Spec] | None] = ContextVar("bearer_links", default=None)


class NotCollecting(RuntimeError):
    """A bearer link was rendered outside ``enqueue``: it would have nowhere safe to go."""


def minter(kind: str) -> Callable[[Minter], Minter]:
    """Register the function that makes the live URL for links of ``kind`` (None when the link
    can no longer be made, e.g. the account is gone)."""

    def register(func: Minter) -> Minter:
        _minters[kind] = func
        return func

    return register


class BearerLink:
    """A link of ``kind`` with the ids its minter takes, for a mail template's context."""

    def __init__(self, kind: str, **params: int | str) -> None:
        self.spec: Spec = {"kind": kind, **params}

    def __str__(self) -> str:
        specs = _collecting.get()
        if specs is None:
            raise NotCollecting(self.spec["kind"])
        if self.spec not in specs:
            specs.append(self.spec)
        return f"[[link:{specs.index(self.spec)}]]"

    def __html__(self) -> str:
        return str(self)


@contextmanager
def collecting() -> Iterator[list[Spec]]:
    """Collect the bearer links rendered inside the block (the text and HTML bodies of one
    message share the list, so the same link has the same marker in both)."""
    specs: list[Spec] = []
    token = _collecting.set(specs)
    try:
        yield specs
    finally:
        _collecting.reset(token)


def _mint(spec: Spec) -> str | None:
    params = dict(spec)
    kind = params.pop("kind")
    if kind not in _minters:
        log.error("No minter for bearer links of kind %r: the link is left out", kind)
        return None
    return _minters[kind](**params)


def live_url(spec: Spec) -> str | None:
    """The live URL for one link (None when it can no longer be made): what a short link
    (``/s/<code>``) opens."""
    return _mint(spec)


def mint(
    text: str,
    specs: list[Spec] | None,
    *,
    html: bool = False,
    shortener: Callable[[Spec], str | None] | None = None,
) -> str:
    """The text to send: each marker replaced by a freshly minted URL (or, for an SMS, by the
    short link ``shortener`` mints for it)."""
    specs = specs or []
    make = shortener or _mint

    def live(match: re.Match[str]) -> str:
        index = int(match.group(1))
        url = make(specs[index]) if index < len(specs) else None
        if url is None:
            return _("[link no longer valid]")
        return str(escape(url)) if html else url

    return MARKER.sub(live, text)


def redact(text: str, *, locale: str | None = None) -> str:
    """The text as staff and exports may show it: every marker is "[link skjult]" (in
    ``locale``, or the current request's language)."""
    if locale is not None:
        with force_locale(locale):
            return redact(text)
    if MARKER.search(text) is None:
        return text
    return MARKER.sub(_("[link hidden]"), text)
