"""Whom to ask about a need: its contact person, the one sentence that names them, and a
volunteer's "I am interested" message to them.

A need's contact is a coordinator of the need's organisation, chosen on the need form (by default
whoever posts it). The need page, the child-certificate hint and every email about a need name
them through ``contact_sentence``: name, phone (when they have one) and email. These are the
staff member's work details, shown because they are the need's contact; the need form says so.
Nothing about a volunteer is shown here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup, escape

from volunteer import audit
from volunteer.auth.models import User
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.needs.eligibility import reasons_not_eligible
from volunteer.needs.models import Need
from volunteer.needs.signup import ACTIVE_STATES, assignment_of
from volunteer.notifications.services import already_enqueued, enqueue

# Reasons no message can change: the need itself is not taking anyone, or the user is no
# volunteer. Any other reason (a missing child certificate, a time they are not free, the
# distance) is something to talk about with the contact.
# (A volunteer under 18 by MitID cannot be helped by asking: the lektiecafé rule.)
NOTHING_TO_ASK = frozenset(
    {"not_volunteer", "not_open", "finished", "email_unconfirmed", "under_18"}
)


class ContactError(Exception):
    """The contact cannot be saved or asked; ``code`` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def possible_contacts(organisation_ids: list[int]) -> list[User]:
    """Who may be a need's contact, for the need form: the active coordinators of these
    organisations (each listed once)."""
    seen: dict[int, User] = {}
    for organisation_id in organisation_ids:
        for person in coordinators_of(organisation_id):
            seen.setdefault(person.id, person)
    return sorted(seen.values(), key=lambda u: (u.name.lower(), u.id))


def init_app(app: Flask) -> None:
    """Templates get ``contact_sentence`` (the need page) and ``mail_footer`` (every email about
    a need) as globals."""
    app.jinja_env.globals.update(contact_sentence=contact_sentence, mail_footer=mail_footer)


def choose_contact(
    organisation_id: int, contact_id: int | None, creator: User, current: int | None = None
) -> User | None:
    """The contact for a need of ``organisation_id``: the one chosen, which must be an active
    coordinator of that organisation (ContactError ``not_in_organisation`` otherwise). When none
    is chosen: the ``current`` contact while still one, else the ``creator`` if they are one,
    else the organisation's first coordinator (or nobody, when it has none)."""
    candidates = {person.id: person for person in coordinators_of(organisation_id)}
    if contact_id:
        if contact_id not in candidates:
            raise ContactError("not_in_organisation")
        return candidates[contact_id]
    for preferred in (current, creator.id):
        if preferred in candidates:
            return candidates[preferred]
    return next(iter(candidates.values()), None)


def contact_of(need: Need) -> User | None:
    """Whom to ask about ``need`` now: its contact while they are still an active coordinator
    of its organisation; otherwise (deactivated, moved, never set) the organisation's first
    coordinator; None when it has none."""
    candidates = coordinators_of(need.organisation_id)
    for person in candidates:
        if person.id == need.contact_id:
            return person
    return candidates[0] if candidates else None


def _tel(phone: str) -> str:
    """A tel: link's number: digits, with a leading + kept."""
    return ("+" if phone.strip().startswith("+") else "") + re.sub(r"\D", "", phone)


@dataclass(frozen=True)
class _Details:
    name: object
    phone: object
    email: object


def _details(person: User, *, html: bool) -> _Details:
    phone = (person.phone or "").strip()
    if not html:
        return _Details(person.name, phone, person.email)
    return _Details(
        escape(person.name),
        Markup('<a href="tel:{}">{}</a>').format(_tel(phone), phone) if phone else "",
        Markup('<a href="mailto:{}">{}</a>').format(person.email, person.email),
    )


def contact_sentence(
    need: Need, *, questions: bool = False, html: bool = False, person: User | None = None
) -> str:
    """The one sentence that names the need's contact: "Ask Mette Hansen, phone 75 00 00 00,
    email mette@…" (``questions``: "Questions? Contact …." for the end of an email). With
    ``html`` the phone and email are tel:/mailto: links (returns Markup). Empty when the need has
    no contact."""
    person = person or contact_of(need)
    if person is None:
        return ""
    d = _details(person, html=html)
    if questions and d.phone:
        text = _(
            "Questions? Contact %(name)s, phone %(phone)s, email %(email)s.",
            name=d.name,
            phone=d.phone,
            email=d.email,
        )
    elif questions:
        text = _("Questions? Contact %(name)s, email %(email)s.", name=d.name, email=d.email)
    elif d.phone:
        text = _(
            "Ask %(name)s, phone %(phone)s, email %(email)s.",
            name=d.name,
            phone=d.phone,
            email=d.email,
        )
    else:
        text = _("Ask %(name)s, email %(email)s.", name=d.name, email=d.email)
    # The translation is ours and every value was escaped above.
    return Markup(text) if html else text  # noqa: S704


def mail_footer(need: Need, recipient: User | None, *, html: bool = False) -> str:
    """The last line of every email about ``need``: whom to ask. Empty for the contact
    themselves (and when the need has no contact)."""
    person = contact_of(need)
    if person is None or (recipient is not None and recipient.id == person.id):
        return ""
    return contact_sentence(need, questions=True, html=html, person=person)


def interest_key(volunteer: User, need: Need) -> str:
    return f"need-interest:{need.id}:{volunteer.id}"


def interest_sent(volunteer: User, need: Need) -> bool:
    """Whether the volunteer has already told the contact they are interested."""
    return already_enqueued(interest_key(volunteer, need))


def may_ask(reasons: tuple[str, ...]) -> bool:
    """Whether a volunteer who cannot sign up for these reasons may say they are interested."""
    return bool(reasons) and not NOTHING_TO_ASK.intersection(reasons)


def express_interest(
    volunteer: User, need: Need, now: datetime, explain: Mapping[str, object]
) -> tuple[User, bool]:
    """The volunteer cannot sign up yet (a missing child certificate, say) but would like to:
    tell the need's contact, with the volunteer's name, email and phone and the reasons
    (``explain`` maps each reason code to its text, rendered in the contact's language).

    Once per volunteer and need (the outbox's dedup key): returns the contact and whether a
    message was written now. Audited. Commits. Raises ContactError ``already`` (they are on the
    need), ``email_unconfirmed`` (their address is not confirmed yet), ``eligible`` (they can
    simply sign up), ``closed`` (nothing to ask about) or ``no_contact``."""
    mine = assignment_of(volunteer, need)
    if mine is not None and mine.state in ACTIVE_STATES:
        raise ContactError("already")
    if not volunteer.identity_confirmed:
        raise ContactError("email_unconfirmed")  # the contact would get an unproved address
    reasons = reasons_not_eligible(volunteer, need, now)
    if not reasons:
        raise ContactError("eligible")
    if not may_ask(reasons):
        raise ContactError("closed")
    person = contact_of(need)
    if person is None:
        raise ContactError("no_contact")
    key = interest_key(volunteer, need)
    if already_enqueued(key):
        return person, False
    enqueue(
        key,
        person,
        "need_interest",
        need=need,
        volunteer=volunteer,
        reasons=[explain[r] for r in reasons if r in explain],
    )
    audit.record("need.interest", "need", need.id, actor_id=volunteer.id, contact_id=person.id)
    db.session.commit()
    return person, True
