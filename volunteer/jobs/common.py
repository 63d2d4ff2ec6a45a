"""What several jobs need: recipients and the chunk size."""

from __future__ import annotations

from collections.abc import Sequence

from volunteer.auth.models import User

# How many rows a job handles per transaction: big enough to be quick, small enough that a
# failure halfway keeps most of the work.
CHUNK = 200


def reachable(users: Sequence[User]) -> list[User]:
    """The users who may still get email: active and not deleted."""
    return [u for u in users if u.is_active]
