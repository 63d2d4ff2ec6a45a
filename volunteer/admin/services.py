"""The administrator's overview of the world Samskab runs in, and the staff accounts: invited
by email (the holder chooses the password), changed, deactivated and reactivated, each audited.
The catalogue's writes are ``volunteer.catalogue.services``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from volunteer import audit
from volunteer.auth.models import Role, User, new_session_token
from volunteer.auth.services import RESET_LINK, find_user_by_email, normalise_email
from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.notifications.links import BearerLink
from volunteer.notifications.models import OutboxMessage
from volunteer.notifications.services import enqueue


@dataclass(frozen=True)
class Overview:
    organisations: list[Organisation]
    local_areas: list[LocalArea]
    centres: list[Centre]
    activity_types: list[ActivityType]
    users_by_role: dict[str, int]
    outbox_by_state: dict[str, int]


def overview() -> Overview:
    return Overview(
        organisations=list(db.session.scalars(select(Organisation).order_by(Organisation.name))),
        local_areas=list(db.session.scalars(select(LocalArea).order_by(LocalArea.name))),
        centres=list(
            db.session.scalars(
                select(Centre)
                .options(joinedload(Centre.local_area), selectinload(Centre.staff))
                .order_by(Centre.name)
            )
        ),
        activity_types=list(
            db.session.scalars(select(ActivityType).order_by(ActivityType.sort_order))
        ),
        users_by_role=dict(
            db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
        ),
        outbox_by_state=dict(
            db.session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            ).all()
        ),
    )


# Staff accounts: invited by email, never given a password by the administrator.

STAFF_ROLES = (Role.COORDINATOR, Role.CENTRE, Role.ADMIN)


class EmailTaken(Exception):
    """There is already an account with this email address."""


class NotAllowed(Exception):
    """The change would lock the administrator out, or is not for a staff account."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class MissingPlace(Exception):
    """A coordinator needs an organisation and centre staff a centre."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class StaffData:
    name: str
    role: str
    organisation_ids: list[int]
    centre_ids: list[int]


def staff_accounts() -> list[User]:
    """Every coordinator, centre staff member and administrator, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([str(r) for r in STAFF_ROLES]), User.deleted_at.is_(None))
            .options(selectinload(User.organisations), selectinload(User.centres))
            .order_by(User.active.desc(), User.role, User.name)
        )
    )


def staff_account(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES or user.deleted_at is not None:
        return None
    return user


def invitation_pending(user: User) -> bool:
    """Invited, and no password chosen yet."""
    return user.password_hash is None


def _places(data: StaffData) -> tuple[list[Organisation], list[Centre]]:
    if data.role not in STAFF_ROLES:
        raise NotAllowed("role")
    orgs = list(
        db.session.scalars(select(Organisation).where(Organisation.id.in_(data.organisation_ids)))
    )
    centres = list(db.session.scalars(select(Centre).where(Centre.id.in_(data.centre_ids))))
    if data.role == Role.COORDINATOR and not orgs:
        raise MissingPlace("organisation_ids")
    if data.role == Role.CENTRE and not centres:
        raise MissingPlace("centre_ids")
    # Only what the role uses: a coordinator is not centre staff, an admin sees everything.
    return (
        orgs if data.role == Role.COORDINATOR else [],
        centres if data.role == Role.CENTRE else [],
    )


def _send_invitation(user: User, actor: User) -> None:
    # The set-password link is the password reset's: minted when the email is sent, never stored.
    enqueue(
        f"staff-invitation:{user.id}:{int(utcnow().timestamp())}",
        user,
        "staff_invitation",
        reset_link=BearerLink(RESET_LINK, user_id=user.id),
        inviter=actor,
        max_age_minutes=current_app.config["PASSWORD_RESET_MAX_AGE_S"] // 60,
    )


def invite_staff(actor: User, email: str, data: StaffData, locale: str = "da") -> User:
    """Create a staff account without a password and email its holder a link to choose one.
    Raises EmailTaken, MissingPlace or NotAllowed and stores nothing then. Commits."""
    email = normalise_email(email)
    orgs, centres = _places(data)
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        password_hash=None,
        locale=locale,
        organisations=orgs,
        centres=centres,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmailTaken(email) from exc
    _send_invitation(user, actor)
    audit.record(
        "account.invited",
        "user",
        user.id,
        actor_id=actor.id,
        role=str(data.role),
        organisations=[o.id for o in orgs],
        centres=[c.id for c in centres],
    )
    db.session.commit()
    return user


def resend_invitation(actor: User, user: User) -> None:
    """A new invitation email (a fresh link) for someone who has not chosen a password yet."""
    if not user.is_active:
        raise NotAllowed("inactive")
    if not invitation_pending(user):
        raise NotAllowed("not_pending")
    _send_invitation(user, actor)
    audit.record("account.invitation_resent", "user", user.id, actor_id=actor.id)
    db.session.commit()


def update_staff(actor: User, user: User, data: StaffData) -> None:
    """Change a staff member's name, role and organisations or centres. Commits."""
    if user.id == actor.id and data.role != user.role:
        raise NotAllowed("own_role")
    orgs, centres = _places(data)
    before = {
        "name": user.name,
        "role": str(user.role),
        "organisations": sorted(o.id for o in user.organisations),
        "centres": sorted(c.id for c in user.centres),
    }
    user.name, user.role = data.name.strip(), data.role
    user.organisations, user.centres = orgs, centres
    after = {
        "name": user.name,
        "role": str(user.role),
        "organisations": sorted(o.id for o in orgs),
        "centres": sorted(c.id for c in centres),
    }
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        audit.record("account.updated", "user", user.id, actor_id=actor.id, changed=changed)
    db.session.commit()


def set_staff_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (cannot log in; every session and emailed link stops working) or reactivate a
    staff account. An administrator cannot deactivate themselves. Commits."""
    if user.id == actor.id and not active:
        raise NotAllowed("self")
    if user.active == active:
        return
    user.active = active
    # The session cookie carries this token: a new one ends every session at once.
    user.session_token = new_session_token()
    audit.record(
        "account.reactivated" if active else "account.deactivated",
        "user",
        user.id,
        actor_id=actor.id,
    )
    db.session.commit()
