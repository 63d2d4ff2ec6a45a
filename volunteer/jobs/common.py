"""What several jobs need: recipients, places, local days."""

from __future__ import annotations

from collections.abc import Sequence

from volunteer.auth.models import User
from volunteer.needs.models import Need

# How many rows a job handles per transaction: big enough to be quick, small enough that a
# failure halfway keeps most of the work.
CHUNK = 200


def reachable(users: Sequence[User]) -> list[User]:
    """The users who may still get email: active and not deleted."""
    return [u for u in users if u.is_active]


def place_of(need: Need) -> str:
    """Where it happens, as a line for an email: the centre, else the address or town."""
    if need.centre is not None:
        centre = need.centre
        street = f"{centre.address}, " if centre.address else ""
        return f"{centre.name}, {street}{centre.postcode} {centre.town}"
    street = f"{need.address}, " if need.address else ""
    return f"{street}{need.postcode} {need.town}"
