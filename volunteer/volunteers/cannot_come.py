""" "Kan ikke komme": the link in a visit reminder that calls off that one visit in one step,
without a password (the mail may be read on a tablet nobody logs in on).

The link is a bearer link (``volunteer.notifications.links``): the outbox holds a marker, and
only the delivered email carries the signed token. It names one visit and its volunteer, works
until the visit starts (and for ``CANNOT_COME_MAX_AGE_S`` at most), and cancels through the
same rule as the "Aflys" button on Min side (``services.cancel_visit``): the coordinators are
told, the centre when it is today or tomorrow, and a one-off place goes to the waiting list.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from volunteer.auth.models import User
from volunteer.centres.models import Visit
from volunteer.extensions import db
from volunteer.notifications import links
from volunteer.notifications.links import BearerLink
from volunteer.urls import external_url
from volunteer.volunteers import services

LINK = "cannot-come"
SALT = "samskab.cannot-come"


class BadLink(Exception):
    """The link is malformed, too old, or its visit or account is gone."""


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def link_for(visit: Visit) -> BearerLink:
    """The "Kan ikke komme" link for a mail about ``visit`` (to its volunteer)."""
    return BearerLink(LINK, visit_id=visit.id, volunteer_id=visit.volunteer_id)


def make_token(visit_id: int, volunteer_id: int) -> str:
    return str(_signer().dumps([visit_id, volunteer_id]))


@links.minter(LINK)
def _mint(visit_id: int, volunteer_id: int) -> str:
    return external_url("volunteers.cannot_come", token=make_token(visit_id, volunteer_id))


def read(token: str) -> Visit:
    """The visit a valid link names (its volunteer still active); BadLink otherwise. Whether
    the visit can still be called off is the caller's question (``bookings.cancellable``)."""
    try:
        visit_id, volunteer_id = _signer().loads(
            token, max_age=current_app.config["CANNOT_COME_MAX_AGE_S"]
        )
    except (BadSignature, TypeError, ValueError) as exc:
        raise BadLink from exc
    visit = db.session.get(Visit, visit_id) if isinstance(visit_id, int) else None
    if visit is None or visit.volunteer_id != volunteer_id:
        raise BadLink
    volunteer = db.session.get(User, volunteer_id)
    if volunteer is None or not volunteer.is_active:
        raise BadLink
    return visit


def cancel(token: str, reason: str, now: datetime) -> Visit:
    """Call off the link's visit as its volunteer (BadLink, or services.NotAllowed when it has
    started or is no longer booked). Audited as done through the reminder. Commits."""
    visit = read(token)
    return services.cancel_visit(visit.volunteer, visit.id, reason, now, via="reminder_link")
