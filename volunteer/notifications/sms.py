"""SMS: the GSM 03.38 alphabet, texts that fit one message, Danish phone numbers, gateways.

One SMS is 160 septets of the GSM 03.38 default alphabet (æ, ø, å, Æ, Ø, Å are in it, one
septet each); the characters of the extension table (€, [, ], {, }, ~, ^, |, \\) take two.
A text with any other character would go as UCS-2 and hold only 70 characters, so every SMS is
turned into the alphabet first (``to_gsm``) and fitted into 160 septets (``fit_sms``) by
shortening only the parts a template marked as shortenable (a title, a place) — never the date,
the weekday or the link.

Gateways are provider-agnostic (``SmsGateway``): ``HttpGateway`` speaks a JSON REST API of the
kind Danish providers offer (GatewayAPI.com style: POST {sender, message, recipients: [{msisdn}]}
with a token, answered with the message ids; delivery reports are POSTed back to
``/sms/status``). Without ``SMS_URL`` SMS are written to the log (``LogGateway``), as email is.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import requests

from volunteer.notifications.links import MARKER

log = logging.getLogger("samskab.sms")

SMS_SEPTETS = 160

# The default alphabet in code order (0x00 … 0x7F); 0x1B is the escape to the extension table.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D}
EXTENSION |= {"]": 0x3E, "|": 0x40, "€": 0x65}
ESCAPE = 0x1B
_BASIC_CODES = {char: code for code, char in enumerate(BASIC) if code != ESCAPE}

# Common characters outside the alphabet and what they become.
_REPLACEMENTS = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\t": " ",
}


class SmsTooLong(ValueError):
    """The parts that may not be shortened (date, weekday, link) alone exceed one SMS."""


class NotGsm(ValueError):
    """A character outside the GSM 03.38 alphabet reached ``gsm_encode``."""


def is_gsm(char: str) -> bool:
    return char in _BASIC_CODES or char in EXTENSION


def to_gsm(text: str) -> str:
    """``text`` in the GSM alphabet: typographic quotes and dashes made plain, accents dropped
    where the accented letter is missing (ê → e), anything else a '?'."""
    out = []
    for char in text:
        if is_gsm(char):
            out.append(char)
            continue
        if char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if is_gsm(c))
        out.append(base or "?")
    return "".join(out)


def gsm_length(text: str, *, link_length: int = 0) -> int:
    """Septets ``text`` takes in the GSM alphabet (extension characters count two). A bearer-link
    marker counts as ``link_length`` (the length of the link it becomes). NotGsm for a character
    outside the alphabet."""
    length = 0
    for piece in MARKER.split(text)[::2]:
        for char in piece:
            if char in _BASIC_CODES:
                length += 1
            elif char in EXTENSION:
                length += 2
            else:
                raise NotGsm(char)
    return length + link_length * len(MARKER.findall(text))


def gsm_encode(text: str) -> bytes:
    """The septets of ``text``, one per byte (unpacked), as a gateway sending GSM-7 sends them."""
    out = bytearray()
    for char in text:
        if char in _BASIC_CODES:
            out.append(_BASIC_CODES[char])
        elif char in EXTENSION:
            out += bytes((ESCAPE, EXTENSION[char]))
        else:
            raise NotGsm(char)
    return bytes(out)


def gsm_decode(septets: bytes) -> str:
    reverse = {code: char for char, code in EXTENSION.items()}
    out, escaped = [], False
    for code in septets:
        if escaped:
            out.append(reverse[code])
            escaped = False
        elif code == ESCAPE:
            escaped = True
        else:
            out.append(BASIC[code])
    return "".join(out)


# --- shortenable parts of a template ---------------------------------------------------------

_SLOT = re.compile(r"\x00(\d+)\x00")
_slots: ContextVar[list[str] | None] = ContextVar("sms_slots", default=None)


def shorten(value: object) -> str:
    """In an SMS template: ``value`` may be shortened to make the text fit (a title, a place)."""
    slots = _slots.get()
    if slots is None:
        return str(value)
    slots.append(str(value))
    return f"\x00{len(slots) - 1}\x00"


@contextmanager
def collecting_slots() -> Iterator[list[str]]:
    slots: list[str] = []
    token = _slots.set(slots)
    try:
        yield slots
    finally:
        _slots.reset(token)


def _clean(text: str) -> str:
    return " ".join(to_gsm(text).split())


def _cut(value: str, room: int) -> str:
    """``value`` in at most ``room`` septets; a cut value ends with a '.'."""
    if gsm_length(value) <= room:
        return value
    if room <= 1:
        return ""
    out = ""
    for char in value:
        if gsm_length(out + char) > room - 1:
            break
        out += char
    return out.rstrip(" ,.-") + "."


def _tidy(text: str) -> str:
    """Lines kept, runs of spaces collapsed (templates are written for readability)."""
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


def fit_sms(text: str, slots: Sequence[str] = (), *, link_length: int = 0) -> str:
    """One SMS: ``text`` in the GSM alphabet within 160 septets (markers counted as
    ``link_length``). Only the slot values (``shorten`` in the template) are shortened, the
    longest first, so every one keeps a fair share; SmsTooLong when the fixed text alone is too
    long — nothing else is ever dropped."""
    text = _tidy("\x00".join(to_gsm(part) for part in text.split("\x00")))
    fixed_length = gsm_length(_SLOT.sub("", text), link_length=link_length)
    room = SMS_SEPTETS - fixed_length
    if room < 0:
        raise SmsTooLong(f"{fixed_length} septets without the shortenable parts")
    values = [_clean(v) for v in slots]
    shares = [gsm_length(v) for v in values]
    while sum(shares) > room:
        longest = max(range(len(shares)), key=lambda i: shares[i])
        shares[longest] -= 1
    fitted = [_cut(v, share) for v, share in zip(values, shares, strict=True)]

    def value(match: re.Match[str]) -> str:
        cut = fitted[int(match.group(1))]
        # A cut value ends in '.'; the template's own full stop after it is enough.
        if cut.endswith(".") and text.startswith(".", match.end()):
            return cut[:-1]
        return cut

    result = _SLOT.sub(value, text)
    if gsm_length(result, link_length=link_length) > SMS_SEPTETS:  # a slot at a line's end
        raise SmsTooLong(result)
    return result


# --- Danish phone numbers --------------------------------------------------------------------


class BadPhone(ValueError):
    """Not a Danish phone number (eight digits, optionally after +45 or 0045)."""


def normalise_phone(text: str) -> str:
    """A Danish number in E.164: '+45 20 30 40 50', '20304050', '0045 2030 4050' → '+4520304050'.
    BadPhone for anything else (a number abroad, too few digits, a leading 0 or 1)."""
    compact = re.sub(r"[\s.\-/()]", "", text or "")
    if compact.startswith("+"):
        compact = compact[1:]
        if not compact.startswith("45"):
            raise BadPhone(text)
        compact = compact[2:]
    elif compact.startswith("0045"):
        compact = compact[4:]
    elif len(compact) == 10 and compact.startswith("45"):
        compact = compact[2:]
    if not re.fullmatch(r"[2-9]\d{7}", compact):
        raise BadPhone(text)
    return "+45" + compact


def phone_or_none(text: str | None) -> str | None:
    """The E.164 form of a stored phone number, or None when it is not a Danish number."""
    try:
        return normalise_phone(text or "")
    except BadPhone:
        return None


# --- gateways ---------------------------------------------------------------------------------


class GatewayRejected(Exception):
    """The gateway refused the message for good (4xx: a bad number, a bad text): not retried."""


class GatewayUnavailable(Exception):
    """The gateway could not take the message now (5xx, timeout, no connection): retried."""


class SmsGateway(Protocol):
    # Whether the recipient gets the SMS: only then are bearer links minted into it.
    delivers: bool

    def send(self, to_phone: str, text: str, reference: str) -> str:
        """Hand one SMS to the provider; returns its id for the delivery reports."""
        ...


class LogGateway:
    """Development delivery (no SMS_URL configured): the SMS goes to the log, links hidden."""

    delivers = False

    def send(self, to_phone: str, text: str, reference: str) -> str:
        log.info("SMS to %s (%s): %s", to_phone, reference, text)
        return f"log-{reference}"


class HttpGateway:
    """A JSON REST gateway (GatewayAPI.com style) over one keep-alive HTTP session.

    Sends ``reference`` as ``userref`` on every attempt, so a provider that deduplicates on it
    (and the delivery reports, which carry it back) can tell a retry from a new message.
    """

    delivers = True

    def __init__(self, url: str, token: str, sender: str, timeout: float) -> None:
        self.url, self.sender, self.timeout = url, sender, timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        # The environment (proxies, CA bundle) is read once here, not again for every SMS.
        self.session.trust_env = False
        self.session.proxies = requests.utils.get_environ_proxies(url)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle

    def send(self, to_phone: str, text: str, reference: str) -> str:
        payload = {
            "sender": self.sender,
            "message": text,
            "recipients": [{"msisdn": int(to_phone.lstrip("+"))}],
            "userref": reference,
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
        except requests.Timeout as exc:
            raise GatewayUnavailable(f"timeout after {self.timeout} s") from exc
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"no connection: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayUnavailable(f"{response.status_code} {response.text[:200]}")
        if response.status_code >= 400:
            raise GatewayRejected(f"{response.status_code} {response.text[:200]}")
        try:
            ids = response.json()["ids"]
            return str(ids[0])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GatewayUnavailable(f"unreadable answer: {response.text[:200]}") from exc

    def close(self) -> None:
        self.session.close()


@contextmanager
def gateway(config: Any) -> Iterator[SmsGateway]:
    """The configured gateway for one batch."""
    if not config.get("SMS_URL"):
        yield LogGateway()
        return
    http = HttpGateway(
        config["SMS_URL"], config["SMS_TOKEN"] or "", config["SMS_SENDER"], config["SMS_TIMEOUT_S"]
    )
    try:
        yield http
    finally:
        http.close()
