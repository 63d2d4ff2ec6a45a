"""Where a need happens, as one line of text, and who may see its exact street address.

The one place formatter: every page, email, calendar event and job that shows where a need
happens uses ``place_line`` (templates via the Jinja globals registered by ``init_app``), so the
same need reads the same everywhere:

- exact: ``Plejecenter Bakkegården, Bakkevej 12, 7130 Juelsminde`` (centre, street, postcode town)
- approximate: ``Plejecenter Bakkegården, 7130 Juelsminde``; without a centre ``7130 Juelsminde``.

The street is the need's own address (often a senior's home) or else its centre's. At a centre
the postcode and town are the centre's (the need keeps a copy for search and distance, made when
it is saved); elsewhere the need's own.

The one privacy rule, ``address_access(user)``: the exact street is shown only to the people
who must find the door:

- whoever manages the need (a coordinator of its organisation, an administrator),
- the staff of the need's centre (they work there; their follow-up emails name it),
- a volunteer whose assignment on the need is accepted.

Everyone else, including a volunteer who is only proposed, invited or on the waiting list, sees
the approximate line. Public lists (front page, search) always show the approximate line.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from volunteer.auth.models import Role, User
from volunteer.catalogue.models import Centre
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need


@dataclass(frozen=True)
class PlaceParts:
    """The pieces of a place line; ``street`` is empty unless the exact place is asked for."""

    name: str
    street: str
    postcode: str
    town: str

    def line(self) -> str:
        town = " ".join(part for part in (self.postcode, self.town) if part)
        return ", ".join(part for part in (self.name, self.street, town) if part)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def place_parts(need: Need, *, exact: bool) -> PlaceParts:
    """The parts of the need's place; the street only when ``exact``."""
    centre = need.centre
    own_street = _clean(need.address) if exact else ""
    if centre is None:
        return PlaceParts("", own_street, _clean(need.postcode), _clean(need.town))
    centre_parts = _centre_parts(centre)
    return PlaceParts(
        name=centre_parts.name,
        street=(own_street or centre_parts.street) if exact else "",
        postcode=centre_parts.postcode,
        town=centre_parts.town,
    )


def approximate_line(
    postcode: str | None,
    town: str | None,
    centre: tuple[str | None, str | None, str | None] | None,
) -> str:
    """``place_line(need, exact=False)`` from plain columns, for lists read without ORM objects:
    the need's postcode and town, and its centre's (name, postcode, town) or None."""
    if centre is None:
        return PlaceParts("", "", _clean(postcode), _clean(town)).line()
    name, centre_postcode, centre_town = centre
    return PlaceParts(_clean(name), "", _clean(centre_postcode), _clean(centre_town)).line()


def place_line(need: Need, *, exact: bool) -> str:
    """Where ``need`` happens as one line: exact (with the street) or approximate."""
    return place_parts(need, exact=exact).line()


def _centre_parts(centre: Centre) -> PlaceParts:
    return PlaceParts(
        _clean(centre.name), _clean(centre.address), _clean(centre.postcode), _clean(centre.town)
    )


def centre_line(centre: Centre) -> str:
    """A centre's own place line (name, street, postcode town), for staff pages."""
    return _centre_parts(centre).line()


@dataclass(frozen=True)
class AddressAccess:
    """Which needs' exact address one user may see (see the module docstring for the rule).

    Made by ``address_access`` with at most one query, then asked per need without more."""

    user: User | None
    centre_ids: frozenset[int]
    accepted_need_ids: frozenset[int]

    def allows(self, need: Need) -> bool:
        from volunteer.needs.manage import may_manage  # manage imports much of the app

        if self.user is None:
            return False
        return (
            need.id in self.accepted_need_ids
            or (need.centre_id is not None and need.centre_id in self.centre_ids)
            or may_manage(self.user, need)
        )

    def place(self, need: Need) -> str:
        """The need's place line as this user may see it."""
        return place_line(need, exact=self.allows(need))


NO_ACCESS = AddressAccess(None, frozenset(), frozenset())


def address_access(user: User | None) -> AddressAccess:
    """The exact-address rule for ``user`` (None or anonymous: no exact address anywhere)."""
    if user is None or not user.is_authenticated:
        return NO_ACCESS
    accepted = db.session.scalars(
        select(Assignment.need_id).where(
            Assignment.volunteer_id == user.id, Assignment.state == AssignmentState.ACCEPTED
        )
    )
    centres = [c.id for c in user.centres] if user.role == Role.CENTRE else []
    return AddressAccess(user, frozenset(centres), frozenset(accepted))


def may_see_address(user: User | None, need: Need) -> bool:
    """Whether ``user`` may see the exact street address of ``need``."""
    return address_access(user).allows(need)


def init_app(app: Flask) -> None:
    """Templates get ``place_line``, ``centre_line`` and ``address_access`` as globals."""
    app.jinja_env.globals.update(
        place_line=place_line, centre_line=centre_line, address_access=address_access
    )
