"""Account rules: registration, authentication, password reset, changing the password or the
email address (confirmed by a bearer link to the new address), staff accounts."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from volunteer import audit, geo
from volunteer.auth.models import Role, User, new_session_token
from volunteer.catalogue.models import Centre, Organisation
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.notifications import links
from volunteer.notifications.links import BearerLink
from volunteer.notifications.services import enqueue
from volunteer.urls import external_url
from volunteer.volunteers.models import VolunteerProfile
from volunteer.volunteers.services import join_default_organisations

RESET_SALT = "samskab.password-reset"
RESET_LINK = "password-reset"
EMAIL_CHANGE_SALT = "samskab.email-change"
EMAIL_CHANGE_LINK = "email-change"
EMAIL_CONFIRM_SALT = "samskab.email-confirm"
EMAIL_CONFIRM_LINK = "email-confirm"
DEFAULT_MAX_KM = 10.0

# Checked against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class EmailTaken(Exception):
    """There is already an account with this email address."""


class UnknownPostcode(Exception):
    """The postcode is not a Danish postcode."""


class InvalidResetToken(Exception):
    """The reset link is malformed, expired or already used."""


class WrongPassword(Exception):
    """The current password given on the account page is not the account's password."""


class SameEmail(Exception):
    """The new email address is the one the account already has."""


class InvalidEmailToken(Exception):
    """The email-change link is malformed, expired, already used or for a changed account."""


def _account_mail(user: User, template: str, **context: object) -> None:
    """Queue one of the account's own mails (``template``: password_reset, email_confirm, …).
    Keyed by the second: a double click sends one email."""
    key = f"{template.replace('_', '-')}:{user.id}:{int(utcnow().timestamp())}"
    enqueue(key, user, template, **context)


def _signer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _store_new_user(user: User) -> None:
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmailTaken(user.email) from exc


def register_volunteer(
    *, name: str, email: str, password: str, postcode: str, locale: str = "da"
) -> User:
    """Create a volunteer account and its profile, located by postcode. Commits.

    Raises EmailTaken or UnknownPostcode and stores nothing in that case.
    """
    email = normalise_email(email)
    place = geo.lookup(postcode)
    if place is None:
        raise UnknownPostcode(postcode)
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=generate_password_hash(password),
        role=Role.VOLUNTEER,
        locale=locale,
    )
    user.profile = VolunteerProfile(
        postcode=place.code,
        town=place.town,
        lat=place.lat,
        lon=place.lon,
        max_km=DEFAULT_MAX_KM,
        weekly_capacity=1,
        languages=["da"],
    )
    join_default_organisations(user.profile)
    _store_new_user(user)
    audit.record("account.registered", "user", user.id, actor_id=user.id)
    _enqueue_confirmation(user)
    db.session.commit()
    return user


# --- Confirming the address ---------------------------------------------------------------
# A new account's address is unproved: anyone can type anyone's address. Until its owner opens
# the link mailed to it, nothing about the volunteer goes to third parties (the booking rules
# refuse a yes, the matching leaves them out, "I am interested" sends nothing). A password
# reset or an email-change link proves the address as well.


def make_email_confirm_token(user: User) -> str:
    return _signer(EMAIL_CONFIRM_SALT).dumps({"u": user.id, "e": user.email})


def _enqueue_confirmation(user: User) -> None:
    # The link (and its token) is minted when the email is sent; the outbox holds a marker.
    _account_mail(
        user,
        "email_confirm",
        confirm_link=BearerLink(EMAIL_CONFIRM_LINK, user_id=user.id),
        max_age_days=current_app.config["EMAIL_CONFIRM_MAX_AGE_S"] // 86400,
    )


def send_email_confirmation(user: User) -> bool:
    """Mail a fresh confirmation link to the account's address, unless it is confirmed already
    (False then, and nothing is sent). Commits."""
    if user.email_confirmed:
        return False
    _enqueue_confirmation(user)
    audit.record("account.confirmation_sent", "user", user.id, actor_id=user.id)
    db.session.commit()
    return True


@links.minter(EMAIL_CONFIRM_LINK)
def _email_confirm_link(user_id: int) -> str | None:
    """A fresh confirmation URL at delivery time (None when the account is gone or the address
    is confirmed already)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email_confirmed:
        return None
    return external_url("auth.confirm_address", token=make_email_confirm_token(user))


def read_email_confirm_token(token: str) -> User:
    """The user of a valid confirmation link; InvalidEmailToken when it is malformed, expired,
    or the account has another address now."""
    try:
        data = _signer(EMAIL_CONFIRM_SALT).loads(
            token, max_age=current_app.config["EMAIL_CONFIRM_MAX_AGE_S"]
        )
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidEmailToken from exc
    user_id = data.get("u") if isinstance(data, dict) else None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or data.get("e") != user.email:
        raise InvalidEmailToken
    return user


def _mark_confirmed(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record("account.email_confirmed", "user", user.id, actor_id=user.id)


def confirm_email_address(token: str) -> User:
    """Mark the account's address confirmed from a valid link (InvalidEmailToken otherwise).
    Using the link again changes nothing. Commits."""
    user = read_email_confirm_token(token)
    _mark_confirmed(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Records the login time."""
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def end_all_sessions(user: User) -> None:
    """Invalidate every session of this user (the cookie carries the old token). Commits."""
    user.session_token = new_session_token()
    db.session.commit()


def _password_fingerprint(user: User) -> str:
    """Changes when the password changes, so a reset link works once."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _signer(RESET_SALT).dumps({"u": user.id, "p": _password_fingerprint(user)})


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address. Says nothing either way, so
    the form cannot be used to find out who has an account. Commits."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    # The token is minted when the email is sent (``_reset_link``), so the outbox never holds
    # it. One request a second at most: a double click sends one email.
    _account_mail(
        user,
        "password_reset",
        reset_link=BearerLink(RESET_LINK, user_id=user.id),
        max_age_minutes=current_app.config["PASSWORD_RESET_MAX_AGE_S"] // 60,
    )
    audit.record("account.reset_requested", "user", user.id, actor_id=None)
    db.session.commit()


@links.minter(RESET_LINK)
def _reset_link(user_id: int) -> str | None:
    """A fresh reset URL for the user, at delivery time (None when the account is gone)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return external_url("auth.reset_password", token=make_reset_token(user))


def user_for_reset_token(token: str) -> User:
    """The user a valid, unused, unexpired reset token belongs to; InvalidResetToken otherwise."""
    try:
        data = _signer(RESET_SALT).loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE_S"]
        )
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidResetToken from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active or data.get("p") != _password_fingerprint(user):
        raise InvalidResetToken
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; logs the user out everywhere else. The link
    reached the account's address, so that address counts as confirmed. Commits."""
    user = user_for_reset_token(token)
    user.password_hash = generate_password_hash(new_password)
    user.session_token = new_session_token()
    _mark_confirmed(user)  # the link reached the address
    if user.managed:  # its owner has taken over the account a coordinator kept
        user.claimed_at = utcnow()
    audit.record("account.password_reset", "user", user.id, actor_id=user.id)
    db.session.commit()
    return user


def _check_password(user: User, password: str) -> None:
    if user.password_hash is None or not check_password_hash(user.password_hash, password):
        raise WrongPassword


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password for a logged-in user who knows the current one (WrongPassword
    otherwise). Every session of the user ends (the caller starts a fresh one for the browser
    that asked) and the account's address gets a notice. Commits."""
    _check_password(user, current_password)
    user.password_hash = generate_password_hash(new_password)
    user.session_token = new_session_token()
    _account_mail(
        user,
        "password_changed",
        changed_at=utcnow(),
    )
    audit.record("account.password_changed", "user", user.id, actor_id=user.id)
    db.session.commit()


def _account_fingerprint(user: User) -> str:
    """Changes when the email or the password changes, so an email-change link works once and
    dies when the account changes in between."""
    material = f"{user.email}\n{user.password_hash or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def make_email_change_token(user: User, new_email: str) -> str:
    return _signer(EMAIL_CHANGE_SALT).dumps(
        {"u": user.id, "e": normalise_email(new_email), "f": _account_fingerprint(user)}
    )


def request_email_change(user: User, current_password: str, new_email: str) -> None:
    """Send a confirmation link to ``new_email``; the account keeps its email until the link is
    used. Raises WrongPassword, SameEmail or EmailTaken (another account has the address: no
    email goes to it). Commits."""
    _check_password(user, current_password)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise SameEmail
    if find_user_by_email(new_email) is not None:
        raise EmailTaken(new_email)
    # The link (and its token) is minted when the email is sent; the outbox holds a marker.
    _account_mail(
        user,
        "email_change",
        to_email=new_email,
        new_email=new_email,
        confirm_link=BearerLink(EMAIL_CHANGE_LINK, user_id=user.id, email=new_email),
        max_age_hours=current_app.config["EMAIL_CHANGE_MAX_AGE_S"] // 3600,
    )
    audit.record("account.email_change_requested", "user", user.id, actor_id=user.id)
    db.session.commit()


@links.minter(EMAIL_CHANGE_LINK)
def _email_change_link(user_id: int, email: str) -> str | None:
    """A fresh confirmation URL at delivery time (None when the account is gone)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return external_url("auth.confirm_email", token=make_email_change_token(user, email))


def read_email_change_token(token: str) -> tuple[User, str]:
    """The user and the new address of a valid email-change link; InvalidEmailToken when it
    is malformed, expired, already used, or the account's email or password changed since."""
    try:
        data = _signer(EMAIL_CHANGE_SALT).loads(
            token, max_age=current_app.config["EMAIL_CHANGE_MAX_AGE_S"]
        )
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidEmailToken from exc
    if not isinstance(data, dict) or not isinstance(data.get("e"), str):
        raise InvalidEmailToken
    user_id = data.get("u")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or data.get("f") != _account_fingerprint(user):
        raise InvalidEmailToken
    return user, data["e"]


def confirm_email_change(token: str) -> User:
    """Give the account the address from a valid link (InvalidEmailToken, or EmailTaken when
    another account took the address meanwhile). The old address gets a notice. Commits."""
    user, new_email = read_email_change_token(token)
    if find_user_by_email(new_email) is not None:
        raise EmailTaken(new_email)
    old_email = user.email
    user.email = new_email
    user.email_confirmed_at = None
    _mark_confirmed(user)  # the link reached the new address
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmailTaken(new_email) from exc
    _account_mail(
        user,
        "email_changed",
        to_email=old_email,
        new_email=new_email,
    )
    audit.record("account.email_changed", "user", user.id, actor_id=user.id)
    db.session.commit()
    return user


def create_staff_user(
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    organisation: Organisation | None = None,
    centre: Centre | None = None,
) -> User:
    """Create a coordinator, centre or admin account (or a volunteer without profile). Commits."""
    email = normalise_email(email)
    if db.session.scalar(select(func.count()).where(User.email == email)):
        raise EmailTaken(email)
    user = User(email=email, name=name, role=role, password_hash=generate_password_hash(password))
    if organisation is not None:
        user.organisations.append(organisation)
    if centre is not None:
        user.centres.append(centre)
    _store_new_user(user)
    audit.record("account.created", "user", user.id, actor_id=None, role=str(role))
    db.session.commit()
    return user
