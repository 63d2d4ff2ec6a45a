"""A secret kept encrypted at rest: the TOTP shared secret is stored as a Fernet token (AES-128
in CBC mode with an HMAC-SHA256) under a key derived from ``SAMSKAB_SECRET_KEY`` with HKDF, so a
copy of the database (a backup, a dump) does not carry the second factor. Transparent to the
code: the attribute holds the plain secret, the column the token.

Changing ``SAMSKAB_SECRET_KEY`` makes the stored secrets unreadable: they read as None (the
second factor is off, and set up again at the next login where the role requires it)."""

from __future__ import annotations

import base64
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# Binds the derived key to this one use: another purpose derives another key.
_INFO = b"samskab totp secret at rest v1"
# A Fernet token of a 32-character base32 secret is 140 characters.
SEALED_LENGTH = 255


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(raw)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode("ascii")


def unseal(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        log.warning("A stored second-factor secret cannot be read (SAMSKAB_SECRET_KEY changed?)")
        return None


class SealedString(TypeDecorator[str]):
    """A string column whose value is stored encrypted (``seal``/``unseal``)."""

    impl = String(SEALED_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(value)
