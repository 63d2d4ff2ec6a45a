"""Factories for the volunteer pages' tests: occurrences, assignments, visits, logins."""

from __future__ import annotations

from datetime import datetime, timedelta

import factories
from volunteer.extensions import db
from volunteer.models import (
    Assignment,
    AssignmentSource,
    AssignmentState,
    Need,
    Occurrence,
    Organisation,
    Role,
    User,
    Visit,
    VisitState,
)


def login(client, user: User) -> None:
    response = client.post(
        "/konto/log-ind", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def coordinator(org: Organisation, **fields) -> User:
    user = factories.user(role=Role.COORDINATOR, **fields)
    user.organisations.append(org)
    db.session.commit()
    return user


def member(org: Organisation, **fields) -> User:
    """A volunteer who lets ``org`` contact them."""
    user = factories.user(**fields)
    user.profile.organisations.append(org)
    db.session.commit()
    return user


def occurrence(need: Need, starts_at: datetime, hours: float = 1.5) -> Occurrence:
    occ = Occurrence(need=need, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours))
    db.session.add(occ)
    db.session.commit()
    return occ


def assignment(
    need: Need, volunteer: User, state: AssignmentState = AssignmentState.ACCEPTED
) -> Assignment:
    a = Assignment(need=need, volunteer=volunteer, state=state, source=AssignmentSource.MANUAL)
    db.session.add(a)
    db.session.commit()
    return a


def visit(
    occ: Occurrence,
    volunteer: User,
    assignment: Assignment | None = None,
    state: VisitState = VisitState.SCHEDULED,
) -> Visit:
    v = Visit(occurrence=occ, volunteer=volunteer, assignment=assignment, state=state)
    db.session.add(v)
    db.session.commit()
    return v
