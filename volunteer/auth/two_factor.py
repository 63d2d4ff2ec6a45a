"""Two-factor login for password accounts (TOTP, RFC 6238, with one-time recovery codes) and the
per-role login policies an administrator sets: require a second factor, switch the password
off for staff once single sign-on works. A login through an OpenID provider needs no second
factor here: the municipality's identity provider or MitID does that."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import select
from werkzeug.security import check_password_hash

from volunteer import audit
from volunteer.auth.models import LoginPolicy, RecoveryCode, Role, User
from volunteer.extensions import db

ISSUER_NAME = "Samskab"
RECOVERY_CODE_COUNT = 10
STEP_S = 30
STAFF_ROLES = (Role.COORDINATOR, Role.CENTRE, Role.ADMIN)
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class AlreadyEnrolled(Exception):
    """The account has a confirmed second factor already."""


class Required(Exception):
    """The account's role requires two-factor login: it cannot be switched off."""


class NotAllowed(Exception):
    """The policy would lock a role out (no staff provider may log it in)."""


@dataclass(frozen=True)
class Policy:
    role: str
    require_two_factor: bool
    password_login: bool


def policy_for(role: str) -> Policy:
    row = db.session.get(LoginPolicy, role)
    if row is None:
        return Policy(role=role, require_two_factor=False, password_login=True)
    return Policy(row.role, row.require_two_factor, row.password_login)


def policies() -> list[Policy]:
    return [policy_for(role) for role in STAFF_ROLES]


def set_policy(
    actor: User,
    role: str,
    *,
    require_two_factor: bool,
    password_login: bool,
    sso_roles: set[str],
    now: datetime,
) -> bool:
    """Set how staff of ``role`` log in; audited. The password can be switched off only for a
    role a staff OpenID provider may log in (``sso_roles``), else NotAllowed. Returns whether
    anything changed. Commits."""
    if role not in STAFF_ROLES:
        raise NotAllowed(role)
    if not password_login and role not in sso_roles:
        raise NotAllowed(role)
    before = policy_for(role)
    if (before.require_two_factor, before.password_login) == (require_two_factor, password_login):
        return False
    row = db.session.get(LoginPolicy, role) or LoginPolicy(role=role)
    row.require_two_factor = require_two_factor
    row.password_login = password_login
    row.updated_at = now
    row.updated_by_id = actor.id
    db.session.add(row)
    audit.record(
        "login_policy.changed",
        "login_policy",
        None,
        actor_id=actor.id,
        role=role,
        require_two_factor=require_two_factor,
        password_login=password_login,
    )
    db.session.commit()
    return True


def password_login_allowed(user: User, sso_roles: set[str]) -> bool:
    """Whether ``user`` may log in with the password (False: staff whose role logs in through
    the municipality's single sign-on only)."""
    return user.role not in sso_roles or policy_for(user.role).password_login


def second_step_needed(user: User) -> bool:
    """Whether a password login must be followed by a code: the account has one, or its role
    requires it (the account is then asked to set one up before it is logged in)."""
    return user.two_factor_enabled or (
        user.role in STAFF_ROLES and policy_for(user.role).require_two_factor
    )


# --- Enrolment ------------------------------------------------------------------------------


def begin_enrolment(user: User) -> str:
    """A new secret for the account, counting only once confirmed with a code. Keeps an
    unconfirmed one (a reload shows the same QR code). Commits."""
    if user.two_factor_enabled:
        raise AlreadyEnrolled
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        db.session.commit()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    assert user.totp_secret is not None
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER_NAME)


def qr_svg(uri: str, title: str) -> str:
    """The QR code as inline SVG, made here (no outside service sees the secret)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title=title, dark="#000")


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_S


def _matching_step(user: User, code: str, now: datetime) -> int | None:
    """The time step (now, or one either side) whose code is ``code`` and that is newer than the
    last one used (a code works once)."""
    assert user.totp_secret is not None
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    current = _step(now)
    for step in (current - 1, current, current + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    user.recovery_codes.clear()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        user.recovery_codes.append(RecoveryCode(code_hash=_hash(raw)))
    return codes


def confirm_enrolment(user: User, code: str, now: datetime) -> list[str] | None:
    """Switch the second factor on with a first code from the app: returns the ten recovery
    codes (shown once; only their hashes are kept), or None for a wrong code. Commits."""
    if user.two_factor_enabled:
        raise AlreadyEnrolled
    if user.totp_secret is None:
        return None
    step = _matching_step(user, _normalise(code), now)
    if step is None:
        return None
    user.totp_last_step = step
    user.totp_confirmed_at = now
    codes = _new_recovery_codes(user)
    audit.record("account.two_factor_enabled", "user", user.id, actor_id=user.id)
    db.session.commit()
    return codes


def verify(user: User, code: str, now: datetime) -> bool:
    """Check the second step: a current code from the app (each only once) or an unused
    recovery code (used up by this). Commits."""
    if not user.two_factor_enabled:
        return False
    code = _normalise(code)
    if code.isascii() and code.isdigit() and len(code) == 6:
        step = _matching_step(user, code, now)
        if step is None:
            return False
        user.totp_last_step = step
        db.session.commit()
        return True
    hashed = _hash(code)
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hashed,
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = now
    audit.record("account.recovery_code_used", "user", user.id, actor_id=user.id)
    db.session.commit()
    return True


def _proved(user: User, proof: str, now: datetime) -> bool:
    """The owner proves the account again: a current code from the app (each only once), or
    the account's password."""
    code = _normalise(proof)
    if code.isascii() and code.isdigit() and len(code) == 6:
        step = _matching_step(user, code, now)
        if step is not None:
            user.totp_last_step = step
            return True
    return user.password_hash is not None and check_password_hash(user.password_hash, proof)


def renew_recovery_codes(user: User, proof: str, now: datetime) -> list[str] | None:
    """New recovery codes (the old ones stop working), after a current code or the password:
    the codes, shown once, or None when the proof is wrong. Audited. Commits."""
    if not user.two_factor_enabled or not _proved(user, proof, now):
        return None
    codes = _new_recovery_codes(user)
    audit.record("account.recovery_codes_renewed", "user", user.id, actor_id=user.id)
    db.session.commit()
    return codes


def may_switch_off(user: User) -> bool:
    """Whether the account may switch its own second factor off: not while its role requires
    one."""
    return not (user.role in STAFF_ROLES and policy_for(user.role).require_two_factor)


def switch_off(user: User, proof: str, now: datetime) -> bool:
    """Switch the account's own second factor off, after a current code or the password
    (False when wrong); Required when the role requires it. Audited. Commits."""
    if not may_switch_off(user):
        raise Required
    if not user.two_factor_enabled or not _proved(user, proof, now):
        return False
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    audit.record("account.two_factor_disabled", "user", user.id, actor_id=user.id)
    db.session.commit()
    return True


def unused_recovery_codes(user: User) -> int:
    return sum(1 for row in user.recovery_codes if row.used_at is None)


def reset(actor: User, user: User) -> None:
    """Switch the account's second factor off (an administrator, when the phone is lost): the
    account sets a new one up at its next login if its role requires it. Commits."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    audit.record("account.two_factor_reset", "user", user.id, actor_id=actor.id)
    db.session.commit()
