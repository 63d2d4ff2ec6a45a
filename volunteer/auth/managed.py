"""Managed accounts: a coordinator keeps an account for someone who does not use the web.

A coordinator of one of their organisations makes the account (a name, a postcode, a phone or
nothing; an email only if the person has one), records the person's free times and signs
them up for activities on their behalf — through the same functions a volunteer's own clicks
call, audited as done by the coordinator for the volunteer. The account has no password and
cannot log in. Later the coordinator can invite the person to claim it: a link sent at once
(by email or SMS; ``INVITATION_CHANNELS``), or a printed letter with a one-time code typed at
/konto/aktiver. Claiming sets a password (and an email if there is none) and keeps the whole
history, since it is the same account.

Two people share no account: a managed account is refused for a phone or an email another
account has, and so is a claim with an email another account has.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound
from werkzeug.security import generate_password_hash

from volunteer import audit, geo
from volunteer.audit import AuditEvent
from volunteer.auth.models import Role, User, new_session_token
from volunteer.auth.services import (
    DEFAULT_MAX_KM,
    EmailTaken,
    UnknownPostcode,
    _enqueue_confirmation,
    _mark_confirmed,
    _signer,
    find_user_by_email,
    normalise_email,
)
from volunteer.catalogue.models import Organisation
from volunteer.coordination.models import Assignment
from volunteer.coordination.services import organisation_ids
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.needs import signup
from volunteer.needs.models import Need, NeedStatus
from volunteer.notifications import links, sms
from volunteer.notifications.links import BearerLink
from volunteer.notifications.services import enqueue
from volunteer.urls import external_url
from volunteer.volunteers import services as volunteer_services
from volunteer.volunteers import staff
from volunteer.volunteers.models import VolunteerProfile

CLAIM_SALT = "samskab.account-claim"
CLAIM_LINK = "account-claim"
# How an invitation to claim can travel (``_send``).
INVITATION_CHANNELS = ("email", "sms")
# Letters and digits nobody mixes up on paper or on a phone's keyboard (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
# What a coordinator did for a volunteer, on the volunteer's own record.
ON_BEHALF_ACTIONS = (
    "account.managed_created",
    "volunteer.availability_saved",
    "account.claim_invited",
    "account.claim_letter_printed",
)


class PhoneTaken(Exception):
    """Another account has this phone number."""


class NotYourOrganisation(Exception):
    """The coordinator does not coordinate the organisation asked for."""


class NotManaged(Exception):
    """The account is not kept by a coordinator (never was, or its owner claimed it)."""


class NoAddress(Exception):
    """The invitation's channel needs an address the account does not have."""


class UnknownChannel(Exception):
    """No invitation can be sent that way (yet)."""


class InvalidClaim(Exception):
    """The claim link or code is malformed, expired, already used or unknown."""


class EmailNeeded(Exception):
    """Claiming an account without email: the owner must give one (logging in needs it)."""


def phone_key(phone: str) -> str:
    """A phone number as the digits that make it one: '+45 20 30-40 50', '0045 20304050' and
    '20 30 40 50' are the same Danish number (read by the one normaliser, ``sms.phone_or_none``);
    a number it does not read as Danish compares by its digits."""
    danish = sms.phone_or_none(phone)
    if danish is not None:
        return danish.removeprefix("+45")
    digits = re.sub(r"\D", "", phone)
    return digits.removeprefix("00")


def phone_owner(phone: str, *, other_than: int | None = None) -> User | None:
    """The account (not deleted) whose phone is this number, if any."""
    key = phone_key(phone)
    if not key:
        return None
    stripped = func.replace(func.replace(func.replace(User.phone, " ", ""), "-", ""), "+", "")
    candidates = db.session.scalars(
        select(User).where(
            User.phone.is_not(None),
            User.deleted_at.is_(None),
            stripped.endswith(key[-8:], autoescape=True),
        )
    )
    for user in candidates:
        if user.id != other_than and user.phone and phone_key(user.phone) == key:
            return user
    return None


def create_managed_volunteer(
    coordinator: User,
    *,
    organisation_id: int,
    name: str,
    postcode: str,
    phone: str | None = None,
    email: str | None = None,
) -> User:
    """Make a volunteer account that ``coordinator`` keeps for someone (no password; it cannot
    log in until claimed), a member of the coordinator's organisation ``organisation_id``.
    Raises NotYourOrganisation, UnknownPostcode, PhoneTaken or EmailTaken and stores nothing
    then. Audited. Commits."""
    ids = organisation_ids(coordinator)
    if not coordinator.has_role(Role.COORDINATOR, Role.ADMIN) or (
        ids is not None and organisation_id not in ids
    ):
        raise NotYourOrganisation
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotYourOrganisation
    place = geo.lookup(postcode)
    if place is None:
        raise UnknownPostcode(postcode)
    phone = (phone or "").strip() or None
    email = normalise_email(email) if email and email.strip() else None
    if phone is not None and phone_owner(phone) is not None:
        raise PhoneTaken(phone)
    if email is not None and find_user_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(
        email=email,
        name=name.strip(),
        phone=phone,
        password_hash=None,
        role=Role.VOLUNTEER,
        locale="da",
        managed_by_id=coordinator.id,
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
    user.profile.organisations.append(organisation)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same address written by someone else meanwhile
        db.session.rollback()
        raise EmailTaken(email or "") from exc
    audit.record(
        "account.managed_created",
        "user",
        user.id,
        actor_id=coordinator.id,
        on_behalf_of=user.id,
        organisation_id=organisation.id,
    )
    db.session.commit()
    return user


def managed_volunteer(viewer: User, user_id: int) -> User:
    """A volunteer account that ``viewer`` may act for: one of the viewer's organisations'
    volunteers (else NotFound, like every staff view of a volunteer) whose account a
    coordinator keeps (else NotManaged)."""
    if not viewer.has_role(Role.COORDINATOR, Role.ADMIN):
        raise NotFound
    profile = staff._visible_profile(viewer, user_id)
    if not profile.user.managed:
        raise NotManaged
    return profile.user


def save_availability_for(
    viewer: User, user_id: int, slots: Iterable[tuple[int, int]]
) -> VolunteerProfile:
    """Record the free times of a volunteer whose account the viewer's organisation keeps,
    through the volunteer's own rule (``save_availability``). Audited. Commits."""
    volunteer = managed_volunteer(viewer, user_id)
    volunteer_services.save_availability(volunteer, slots, actor=viewer)
    assert volunteer.profile is not None
    return volunteer.profile


def needs_to_sign_up_for(viewer: User, user_id: int) -> list[Need]:
    """The open needs of the viewer's organisations the volunteer could be signed up for (the
    sign-up itself checks every rule)."""
    volunteer = managed_volunteer(viewer, user_id)
    ids = organisation_ids(viewer)
    query = (
        select(Need)
        .where(Need.status.in_((NeedStatus.OPEN, NeedStatus.FILLED)))
        .order_by(Need.title, Need.id)
    )
    if ids is not None:
        query = query.where(Need.organisation_id.in_(ids))
    taken = select(Assignment.need_id).where(
        Assignment.volunteer_id == volunteer.id, Assignment.state.in_(signup.ACTIVE_STATES)
    )
    return list(db.session.scalars(query.where(Need.id.not_in(taken))))


def sign_up_for(viewer: User, user_id: int, need_id: int, now: datetime) -> signup.SignupResult:
    """Sign a volunteer whose account the viewer keeps up for one of the viewer's
    organisations' needs (another's is NotFound), through the volunteer's own sign-up
    (``signup.sign_up``: the same places, clashes, capacity and eligibility; NotEligible and
    AlreadySignedUp as there). Audited as done by the viewer for the volunteer. Commits."""
    volunteer = managed_volunteer(viewer, user_id)
    need = db.session.get(Need, need_id)
    ids = organisation_ids(viewer)
    if need is None or (ids is not None and need.organisation_id not in ids):
        raise NotFound
    return signup.sign_up(volunteer, need.id, now, actor=viewer)


@dataclass(frozen=True)
class OnBehalf:
    """One thing a coordinator did for a volunteer: "udført af X for Y"."""

    at: datetime
    action: str
    actor_name: str
    need_title: str | None


def done_on_behalf(volunteer_id: int, limit: int = 20) -> list[OnBehalf]:
    """The latest things coordinators did for the volunteer (newest first), from the audit."""
    assignments = select(Assignment.id).where(Assignment.volunteer_id == volunteer_id)
    rows = db.session.execute(
        select(AuditEvent, User.name, Need.title)
        .join(User, User.id == AuditEvent.actor_id)
        .outerjoin(
            Assignment,
            (AuditEvent.object_type == "assignment") & (Assignment.id == AuditEvent.object_id),
        )
        .outerjoin(Need, Need.id == Assignment.need_id)
        .where(
            AuditEvent.actor_id != volunteer_id,
            or_(
                (AuditEvent.object_type == "user")
                & (AuditEvent.object_id == volunteer_id)
                & AuditEvent.action.in_(ON_BEHALF_ACTIONS),
                (AuditEvent.object_type == "assignment")
                & AuditEvent.object_id.in_(assignments)
                & (AuditEvent.action == "assignment.signed_up"),
            ),
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [OnBehalf(event.created_at, event.action, name, title) for event, name, title in rows]


# --- Inviting the owner to claim the account ----------------------------------------------


def _claim_fingerprint(user: User) -> str:
    """Changes when the account is claimed or its email changes, so a link works once."""
    material = f"{user.email or ''}\n{user.claimed_at or ''}\n{user.password_hash or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def make_claim_token(user: User, channel: str) -> str:
    return _signer(CLAIM_SALT).dumps({"u": user.id, "f": _claim_fingerprint(user), "c": channel})


@links.minter(CLAIM_LINK)
def _claim_link(user_id: int, channel: str = "email") -> str | None:
    """A fresh claim URL at delivery time (None once the account is claimed or gone)."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.managed:
        return None
    return external_url("auth.claim_account", token=make_claim_token(user, channel))


def send_invitation(viewer: User, user_id: int, channel: str = "email") -> User:
    """Invite the owner of a managed account to claim it: a link, valid for
    ``CLAIM_LINK_MAX_AGE_S``, minted when the message is sent. ``channel``: one of
    ``INVITATION_CHANNELS`` (UnknownChannel otherwise); NoAddress when the account has no
    address for it. Audited. Commits."""
    volunteer = managed_volunteer(viewer, user_id)
    if channel not in INVITATION_CHANNELS:
        raise UnknownChannel(channel)
    _send(volunteer, channel)
    audit.record(
        "account.claim_invited",
        "user",
        volunteer.id,
        actor_id=viewer.id,
        on_behalf_of=volunteer.id,
        channel=channel,
    )
    db.session.commit()
    return volunteer


def _send(volunteer: User, channel: str) -> None:
    """The invitation on ``channel``: an email to ``volunteer.email`` or one SMS to
    ``volunteer.phone`` (its claim link a short link minted at delivery); NoAddress without."""
    if channel not in INVITATION_CHANNELS:
        raise UnknownChannel(channel)
    if channel == "email" and not volunteer.email:
        raise NoAddress(channel)
    if channel == "sms" and sms.phone_or_none(volunteer.phone) is None:
        raise NoAddress(channel)
    enqueue(
        f"claim-invitation:{volunteer.id}:{int(utcnow().timestamp())}"
        + ("" if channel == "email" else f":{channel}"),
        volunteer,
        "claim_invitation",
        channel=channel,
        claim_link=BearerLink(CLAIM_LINK, user_id=volunteer.id, channel=channel),
        max_age_days=current_app.config["CLAIM_LINK_MAX_AGE_S"] // 86400,
    )


def read_claim_token(token: str) -> tuple[User, str]:
    """The managed account and the channel of a valid claim link; InvalidClaim when it is
    malformed, expired, used, or the account changed since."""
    try:
        data = _signer(CLAIM_SALT).loads(token, max_age=current_app.config["CLAIM_LINK_MAX_AGE_S"])
    except (SignatureExpired, BadSignature) as exc:
        raise InvalidClaim from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise InvalidClaim
    user = db.session.get(User, data["u"])
    if (
        user is None
        or not user.is_active
        or not user.managed
        or data.get("f") != _claim_fingerprint(user)
    ):
        raise InvalidClaim
    return user, str(data.get("c", "email"))


# --- The claim letter's one-time code -------------------------------------------------------


def _code_hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_code(code).encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    """What a person typed, as the code: case, spaces and dashes do not matter."""
    return re.sub(r"[^A-Z0-9]", "", code.upper())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class ClaimLetter:
    volunteer: User
    code: str  # shown once, on the letter; only its hash is stored
    expires_at: datetime


def issue_claim_code(viewer: User, user_id: int, now: datetime) -> ClaimLetter:
    """A new one-time claim code for a managed account, for a printed letter (a code printed
    before stops working). Valid for ``CLAIM_CODE_MAX_AGE_S``. Audited. Commits."""
    volunteer = managed_volunteer(viewer, user_id)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    volunteer.claim_code_hash = _code_hash(code)
    expires_at = now + timedelta(seconds=current_app.config["CLAIM_CODE_MAX_AGE_S"])
    volunteer.claim_code_expires_at = expires_at
    audit.record(
        "account.claim_letter_printed",
        "user",
        volunteer.id,
        actor_id=viewer.id,
        on_behalf_of=volunteer.id,
    )
    db.session.commit()
    return ClaimLetter(volunteer, format_code(code), expires_at)


def user_for_code(code: str, now: datetime) -> User:
    """The managed account of a valid, unexpired claim code; InvalidClaim otherwise."""
    if len(normalise_code(code)) != CODE_LENGTH:
        raise InvalidClaim
    user = db.session.scalar(select(User).where(User.claim_code_hash == _code_hash(code)))
    if (
        user is None
        or not user.is_active
        or not user.managed
        or user.claim_code_expires_at is None
        or user.claim_code_expires_at < now
    ):
        raise InvalidClaim
    return user


# --- Claiming ------------------------------------------------------------------------------


def _claim(user: User, email: str | None, password: str, now: datetime, via: str) -> User:
    """Give the account its owner's password (and email), keeping everything else."""
    email = normalise_email(email) if email and email.strip() else None
    if user.email is None and email is None:
        raise EmailNeeded
    new_address = email is not None and email != user.email
    if new_address:
        other = find_user_by_email(email or "")
        if other is not None and other.id != user.id:
            raise EmailTaken(email or "")
        user.email = email
        user.email_confirmed_at = None
    user.password_hash = generate_password_hash(password)
    user.session_token = new_session_token()
    user.claimed_at = now
    user.claim_code_hash = None
    user.claim_code_expires_at = None
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmailTaken(email or "") from exc
    audit.record("account.claimed", "user", user.id, actor_id=user.id, via=via)
    return user


def claim_with_link(token: str, *, password: str, email: str | None, now: datetime) -> User:
    """Claim a managed account from an invitation link: set the password, and the email when
    the account has none. A link mailed to the account's address proves that address; a new
    address gets the usual confirmation link. InvalidClaim, EmailNeeded or EmailTaken, and
    nothing changes then. Commits."""
    user, channel = read_claim_token(token)
    had = user.email
    _claim(user, email if had is None else None, password, now, via=f"link:{channel}")
    if channel == "email" and had is not None and user.email == had:
        _mark_confirmed(user)  # the link reached the address
    elif not user.email_confirmed:
        _enqueue_confirmation(user)
    db.session.commit()
    return user


def claim_with_code(code: str, *, email: str, password: str, now: datetime) -> User:
    """Claim a managed account with a claim letter's code, giving an email (logging in needs
    one) and a password. The address is confirmed the usual way (a link mailed to it) unless
    it is the account's already confirmed one. InvalidClaim, EmailTaken; nothing changes then.
    Commits."""
    user = user_for_code(code, now)
    _claim(user, email, password, now, via="code")
    if not user.email_confirmed:
        _enqueue_confirmation(user)
    db.session.commit()
    return user
