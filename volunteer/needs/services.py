"""Needs and their occurrences: the schedule rules and the queries the pages use."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import holidays
import numpy as np
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from matching.geo import DISTANCE_SLACK_KM, haversine_np
from volunteer import bookings, geo
from volunteer.catalogue.models import ActivityType, Centre
from volunteer.centres.models import Visit
from volunteer.clock import local_to_utc
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.db import unicode_lower
from volunteer.extensions import db
from volunteer.needs import place
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus, Schedule

HORIZON_WEEKS = 8


@cache
def _danish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _danish_holidays(day.year)


def occurrence_dates(need: Need, start: date, until: date) -> list[date]:
    """The dates in [start, until] on which the need takes place."""
    if need.schedule == Schedule.ONCE:
        return [need.first_date] if start <= need.first_date <= until else []
    first = max(start, need.first_date)
    last = min(until, need.last_date) if need.last_date else until
    offset = (need.weekday - first.weekday()) % 7
    day = first + timedelta(days=offset)
    dates = []
    while day <= last:
        if not (need.skip_holidays and is_public_holiday(day)):
            dates.append(day)
        day += timedelta(days=7)
    return dates


def sync_occurrences(need: Need, today: date, weeks: int = HORIZON_WEEKS) -> None:
    """Bring the need's future occurrences in step with its schedule, up to ``weeks`` ahead.

    Missing occurrences are added. Future ones the schedule no longer has are deleted when no
    visit refers to them, and cancelled otherwise, so visits are never silently lost.
    Does not commit.
    """
    until = today + timedelta(weeks=weeks)
    now_floor = local_to_utc(today, time(0))
    wanted = {
        local_to_utc(day, need.start_time): local_to_utc(day, need.end_time)
        for day in occurrence_dates(need, today, until)
    }
    existing = {
        o.starts_at: o
        for o in db.session.scalars(
            select(Occurrence).where(
                Occurrence.need_id == need.id,
                Occurrence.starts_at >= local_to_utc(today, time(0)),
            )
        )
    }
    with_visits = set(
        db.session.scalars(
            select(Visit.occurrence_id).where(
                Visit.occurrence_id.in_([o.id for o in existing.values()])
            )
        )
    )
    for starts_at, occurrence in existing.items():
        if starts_at in wanted:
            occurrence.ends_at = wanted[starts_at]
        elif occurrence.id in with_visits:
            occurrence.status = OccurrenceStatus.CANCELLED
        else:
            db.session.delete(occurrence)
    added = [
        Occurrence(need=need, starts_at=starts_at, ends_at=ends_at)
        for starts_at, ends_at in wanted.items()
        if starts_at not in existing
    ]
    db.session.add_all(added)
    db.session.flush()
    # Volunteers who have taken the need are expected at the new dates too.
    accepted = db.session.scalars(
        select(Assignment).where(
            Assignment.need_id == need.id, Assignment.state == AssignmentState.ACCEPTED
        )
    ).all()
    for assignment in accepted:
        for occurrence in added:
            db.session.add(
                Visit(
                    occurrence_id=occurrence.id,
                    volunteer_id=assignment.volunteer_id,
                    assignment_id=assignment.id,
                )
            )
    db.session.flush()
    need.next_starts_at = next_start(need.id, now_floor)


@dataclass(frozen=True)
class NeedCard:
    """What a list of needs shows about one need."""

    need: Need
    next_starts_at: datetime | None
    held: int

    @property
    def open_slots(self) -> int:
        return bookings.free_of(self.need.slots, self.held)


@dataclass(frozen=True)
class ListCard:
    """What a list of needs shows about one need, read by the list's one query as plain values
    (no ORM objects); ``place`` is the approximate line (lists never show the street)."""

    id: int
    title: str
    activity_da: str
    activity_en: str
    place: str
    is_weekly: bool
    weekday: int
    start_time: time
    end_time: time
    first_date: date
    next_starts_at: datetime | None
    slots: int
    held: int
    requires_child_certificate: bool

    def activity(self, locale: str) -> str:
        """The activity type's name (``ActivityType.name``)."""
        return self.activity_en if locale == "en" else self.activity_da

    @property
    def open_slots(self) -> int:
        return bookings.free_of(self.slots, self.held)


def _list_cards_query(now: datetime) -> Select[Any]:
    """Exactly what a card shows, one row per need: the next date (``cards_for``'s) and the
    places held (``bookings.held_sql``) as subqueries, the names joined in."""
    next_start = (
        select(func.min(Occurrence.starts_at))
        .where(
            Occurrence.need_id == Need.id,
            Occurrence.starts_at >= now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
        .correlate(Need)
        .scalar_subquery()
    )
    return (
        select(
            Need.id,
            Need.title,
            ActivityType.name_da,
            ActivityType.name_en,
            Need.postcode,
            Need.town,
            Need.centre_id,
            Centre.name,
            Centre.postcode,
            Centre.town,
            Need.schedule,
            Need.weekday,
            Need.start_time,
            Need.end_time,
            Need.first_date,
            next_start,
            Need.slots,
            bookings.held_sql(),
            Need.requires_child_certificate,
        )
        .join(ActivityType, ActivityType.id == Need.activity_type_id)
        .outerjoin(Centre, Centre.id == Need.centre_id)
    )


def _list_cards(rows: Iterable[Any]) -> list[ListCard]:
    cards = []
    for (
        need_id,
        title,
        activity_da,
        activity_en,
        postcode,
        town,
        centre_id,
        centre_name,
        centre_postcode,
        centre_town,
        schedule,
        *rest,
    ) in rows:
        centre = (centre_name, centre_postcode, centre_town) if centre_id is not None else None
        cards.append(
            ListCard(
                need_id,
                title,
                activity_da,
                activity_en,
                place.approximate_line(postcode, town, centre),
                schedule == Schedule.WEEKLY,
                *rest,
            )
        )
    return cards


def _rows(statement: Select[Any]) -> Any:
    """Plain rows of a select of columns, in the session's transaction, without the ORM's
    per-row work (a near-postcode box holds thousands of rows). Flushes first, as the
    session's own execute does."""
    db.session.flush()
    return db.session.connection().execute(statement)


def open_cards(now: datetime, limit: int) -> list[ListCard]:
    """The first ``limit`` open needs of the list (``open_needs_query``'s order), as cards."""
    return _list_cards(
        _rows(
            _list_cards_query(now)
            .where(bookings.bookable_sql(now))
            .order_by(Need.next_starts_at, Need.id)
            .limit(limit)
        )
    )


def _next_starts(need_ids: Sequence[int], now: datetime) -> dict[int, datetime]:
    rows = db.session.execute(
        select(Occurrence.need_id, func.min(Occurrence.starts_at))
        .where(
            Occurrence.need_id.in_(need_ids),
            Occurrence.starts_at >= now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
        .group_by(Occurrence.need_id)
    )
    return dict(rows.all())


def cards_for(needs: Iterable[Need], now: datetime) -> list[NeedCard]:
    """List entries for ``needs`` with two queries in all, whatever their number."""
    needs = list(needs)
    ids = [n.id for n in needs]
    held = bookings.held_counts(ids)
    next_starts = _next_starts(ids, now)
    return [NeedCard(n, next_starts.get(n.id), held.get(n.id, 0)) for n in needs]


def next_start(need_id: int, now: datetime) -> datetime | None:
    """The need's next scheduled date from ``now``."""
    return db.session.scalar(
        select(func.min(Occurrence.starts_at)).where(
            Occurrence.need_id == need_id,
            Occurrence.starts_at >= now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
    )


def refresh_next_dates(now: datetime) -> int:
    """Move ``next_starts_at`` on for needs whose next date has passed. Returns how many
    changed. Does not commit (the scheduler's job does)."""
    stale = db.session.scalars(
        select(Need).where(Need.next_starts_at.is_not(None), Need.next_starts_at < now)
    ).all()
    for need in stale:
        need.next_starts_at = next_start(need.id, now)
    db.session.flush()
    return len(stale)


def open_needs_query(now: datetime) -> Select[tuple[Need]]:
    """Open needs with a date ahead (``bookings.bookable_sql``), soonest first, with what the
    list shows loaded."""
    return (
        select(Need)
        .where(bookings.bookable_sql(now))
        .options(joinedload(Need.activity_type), joinedload(Need.centre))
        .order_by(Need.next_starts_at, Need.id)
    )


TIMES_OF_DAY = {
    "morgen": (time(0), time(12)),
    "eftermiddag": (time(12), time(17)),
    "aften": (time(17), time(23, 59, 59)),
}


@dataclass(frozen=True)
class NeedFilters:
    text: str = ""
    activity: str = ""
    local_area_id: int | None = None
    weekday: int | None = None
    time_of_day: str = ""
    near: geo.Postcode | None = None
    km: float = 10.0


@dataclass(frozen=True)
class SearchPage:
    cards: list[ListCard]
    total: int
    page: int
    pages: int
    km_by_need: dict[int, float]


def _like(column: Any, text: str) -> Any:
    return unicode_lower(column).contains(text.lower(), autoescape=True)


def search_open_needs(filters: NeedFilters, now: datetime, page: int, per_page: int) -> SearchPage:
    """One page of open needs matching ``filters``: soonest first, or nearest first when a
    postcode is given (only those within ``km``). A fixed number of queries per page."""
    conditions: list[Any] = []
    if filters.text:
        conditions.append(
            or_(
                _like(Need.title, filters.text),
                _like(Need.description, filters.text),
                _like(Need.town, filters.text),
            )
        )
    if filters.activity:
        conditions.append(
            Need.activity_type_id
            == select(ActivityType.id)
            .where(ActivityType.code == filters.activity)
            .scalar_subquery()
        )
    if filters.local_area_id is not None:
        conditions.append(Need.local_area_id == filters.local_area_id)
    if filters.weekday is not None:
        conditions.append(Need.weekday == filters.weekday)
    if filters.time_of_day in TIMES_OF_DAY:
        start, end = TIMES_OF_DAY[filters.time_of_day]
        conditions.append(and_(Need.start_time >= start, Need.start_time < end))
    page = max(page, 1)
    if filters.near is None:
        # Counted on the needs table alone: the list query's joins would make it scan more.
        total = db.session.scalar(
            select(func.count(Need.id)).where(bookings.bookable_sql(now), *conditions)
        )
        pages = max(1, math.ceil(total / per_page))
        page = min(page, pages)
        rows = _rows(
            _list_cards_query(now)
            .where(bookings.bookable_sql(now), *conditions)
            .order_by(Need.next_starts_at, Need.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        return SearchPage(_list_cards(rows), total, page, pages, {})
    return _search_near(filters, conditions, now, page, per_page)


def _search_near(
    filters: NeedFilters, conditions: list[Any], now: datetime, page: int, per_page: int
) -> SearchPage:
    origin = filters.near
    assert origin is not None
    # A bounding box in SQL narrows the rows; the exact great-circle distance decides.
    dlat = filters.km / 111.0 + 0.01
    dlon = filters.km / (111.0 * math.cos(math.radians(origin.lat))) + 0.01
    rows = _rows(
        select(Need.id, Need.lat, Need.lon).where(
            bookings.bookable_sql(now),
            Need.lat.between(origin.lat - dlat, origin.lat + dlat),
            Need.lon.between(origin.lon - dlon, origin.lon + dlon),
            *conditions,
        )
    ).all()
    if rows:
        ids_, lats, lons = (np.array(column) for column in zip(*rows, strict=True))
        kms = haversine_np(origin.lat, origin.lon, lats, lons)
        keep = kms <= filters.km + DISTANCE_SLACK_KM
        order = np.lexsort((ids_[keep], kms[keep]))
        distances = list(zip(kms[keep][order].tolist(), ids_[keep][order].tolist(), strict=True))
    else:
        distances = []
    total = len(distances)
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    chosen = distances[(page - 1) * per_page : page * per_page]
    ids = [need_id for _, need_id in chosen]
    loaded = {
        card.id: card for card in _list_cards(_rows(_list_cards_query(now).where(Need.id.in_(ids))))
    }
    return SearchPage(
        [loaded[i] for i in ids], total, page, pages, {need_id: km for km, need_id in chosen}
    )


def get_public_need(need_id: int) -> Need | None:
    """A need anyone may look at: open or filled (drafts and closed needs are not public)."""
    # With what its page shows, in the same query.
    need = db.session.get(
        Need,
        need_id,
        options=[
            joinedload(Need.activity_type),
            joinedload(Need.organisation),
            joinedload(Need.centre),
        ],
    )
    if need is None or need.private or need.status not in (NeedStatus.OPEN, NeedStatus.FILLED):
        return None
    return need


def card_with_dates(need: Need, now: datetime, limit: int = 5) -> tuple[NeedCard, list[Occurrence]]:
    """The need's card and its next ``limit`` dates, in two queries: the card's next date is
    the first of them (``cards_for`` asks the same of the occurrences)."""
    occurrences = upcoming_occurrences(need, now, limit)
    held = bookings.held_counts([need.id]).get(need.id, 0)
    return NeedCard(need, occurrences[0].starts_at if occurrences else None, held), occurrences


def upcoming_occurrences(need: Need, now: datetime, limit: int = 5) -> list[Occurrence]:
    return list(
        db.session.scalars(
            select(Occurrence)
            .where(
                Occurrence.need_id == need.id,
                Occurrence.starts_at >= now,
                Occurrence.status == OccurrenceStatus.SCHEDULED,
            )
            .order_by(Occurrence.starts_at)
            .limit(limit)
        )
    )
