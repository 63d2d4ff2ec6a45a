"""The booking locks: who may count places and commitments while nobody else changes them.

Two rules need two locks. The seats are per need (:func:`lock_need`), so two people cannot take
the last place. Time clashes and weekly capacity are per volunteer (:func:`lock_volunteer`): one
person signing up for two clashing needs at the same moment (two tabs, a double click, two
devices) locks two different needs, so only their own lock makes the second sign-up wait for
the first and then see it. ``start()`` and ``move()`` take both for every move into a held
state (invited, accepted); nothing else needs to.

The order, everywhere: **needs first, then volunteers**, each in id order when a transaction
takes several (:func:`lock_needs`, :func:`lock_volunteers`). It is the order the paths can
follow: the waiting list and a need's edit must hold the need before they know whom it
concerns. A transaction that books on several needs (approving a run's proposals) locks all
of them before any volunteer. Two transactions following the order never wait for each other
in a circle; PostgreSQL breaks any circle a path outside the order makes by failing one of them
(``deadlock detected``), never by booking twice.

PostgreSQL: ``SELECT … FOR UPDATE`` on the need's row; ``FOR NO KEY UPDATE`` on the volunteer's
``users`` row, which serialises bookings without holding up other transactions that only
refer to the user (an outbox message or an audit row for them).

SQLite has one write lock for the whole database: a write as a transaction's first statement
takes it until commit (SQLite has no row locks, and the driver begins a transaction at the
first write), so every booking runs after the other and sees it. Each lock here is such a
write, so the first one taken decides and the rest are free.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from volunteer.auth.models import User
from volunteer.extensions import db
from volunteer.needs.models import Need


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def lock_need(need_id: int) -> Need:
    """Lock the need's row for the rest of the transaction and return it, freshly loaded.

    Every booking takes this lock before counting places, so the last free place cannot go
    twice.
    """
    if _sqlite():
        db.session.execute(update(Need).where(Need.id == need_id).values(status=Need.status))
        return db.session.scalars(
            select(Need).where(Need.id == need_id).execution_options(populate_existing=True)
        ).one()
    return db.session.scalars(
        select(Need)
        .where(Need.id == need_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_needs(need_ids: Iterable[int]) -> None:
    """Lock several needs, in id order (before any volunteer's lock)."""
    for need_id in sorted(set(need_ids)):
        lock_need(need_id)


def lock_volunteer(user_id: int) -> None:
    """Lock the volunteer for the rest of the transaction, so their commitments (clashes,
    weekly capacity) stay as counted until it ends. Take it after the needs' locks."""
    if _sqlite():
        db.session.execute(update(User).where(User.id == user_id).values(active=User.active))
        return
    db.session.execute(
        select(User.id).where(User.id == user_id).with_for_update(key_share=True)
    ).one()


def lock_volunteers(user_ids: Iterable[int]) -> None:
    """Lock several volunteers, in id order."""
    for user_id in sorted(set(user_ids)):
        lock_volunteer(user_id)
