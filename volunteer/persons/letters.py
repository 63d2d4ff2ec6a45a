"""A letter to a person we help about their new visiting friend (printed by a coordinator of
the person's organisation, audited). The coordinator chooses the volunteer and the weekday and
time they agreed; the page lives in ``volunteer.printing``, so a forløb can fill it in later."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import exists
from werkzeug.exceptions import NotFound

from volunteer import audit, printing
from volunteer.auth.models import User
from volunteer.extensions import db
from volunteer.persons.models import Person
from volunteer.persons.services import visible_person
from volunteer.volunteers import staff
from volunteer.volunteers.models import VolunteerProfile, organisation_volunteers


def friend_choices(viewer: User, person: Person) -> list[User]:
    """The volunteers of the person's organisation the viewer may choose, in name order."""
    query = staff._visible_to(viewer).where(
        exists().where(
            organisation_volunteers.c.profile_id == VolunteerProfile.id,
            organisation_volunteers.c.organisation_id == person.organisation_id,
        )
    )
    profiles = db.session.scalars(query.order_by(User.name, User.id)).all()
    return [p.user for p in profiles]


def friend_letter(
    viewer: User,
    person_id: int,
    volunteer_id: int,
    *,
    weekday: int,
    starts: time,
    first_date: date | None,
    today: date,
) -> bytes:
    """The PDF letter to the person about ``volunteer_id`` visiting them every ``weekday`` at
    ``starts``: the volunteer's first name and phone only. The person must be of the viewer's
    organisations and the volunteer one of that organisation's (else NotFound). Audited.
    Commits."""
    person = visible_person(viewer, person_id)
    friend = next((u for u in friend_choices(viewer, person) if u.id == volunteer_id), None)
    if friend is None or not 0 <= weekday <= 6:
        raise NotFound
    data = printing.visiting_friend_letter(
        person.name,
        printing.VisitingFriend(friend.first_name, friend.phone, weekday, starts, first_date),
        viewer,
        today,
    )
    audit.record(
        "person.friend_letter_printed",
        "person",
        person.id,
        actor_id=viewer.id,
        volunteer_id=friend.id,
    )
    db.session.commit()
    return data
