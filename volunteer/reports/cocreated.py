"""Co-created activities (#15 part 6): the needs proposals became, their helpers and the
participants their tovholdere reported, by local area and per quarter — what the platform is
for. Participants are each activity's latest close-out (``ActivityReport``); per quarter, the
latest close-out made in that quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from volunteer import bookings
from volunteer.catalogue.models import LocalArea
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment
from volunteer.extensions import db
from volunteer.needs.models import Need
from volunteer.proposals.models import ActivityReport, ProposalNeed
from volunteer.reports.services import Scope

QUARTERS = 8


@dataclass(frozen=True)
class CoRow:
    label: str
    activities: int
    helpers: int
    participants: int


@dataclass(frozen=True)
class CoCreated:
    by_area: list[CoRow]
    by_quarter: list[CoRow]
    total: CoRow


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _last_quarters(today: date, count: int = QUARTERS) -> list[tuple[int, int]]:
    year, number = quarter_of(today)
    out = []
    for _step in range(count):
        out.append((year, number))
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
    return list(reversed(out))


def co_created(scope: Scope, today: date, none_label: str = "–") -> CoCreated:
    query = select(Need, ProposalNeed.created_at).join(
        ProposalNeed, ProposalNeed.need_id == Need.id
    )
    if scope.organisation_ids is not None:
        query = query.where(Need.organisation_id.in_(scope.organisation_ids))
    rows = db.session.execute(query).all()
    need_ids = [need.id for need, _made in rows]
    helpers: dict[int, set[int]] = {}
    reports: dict[int, list[ActivityReport]] = {}
    if need_ids:
        for need_id, volunteer_id in db.session.execute(
            select(Assignment.need_id, Assignment.volunteer_id).where(
                Assignment.need_id.in_(need_ids), Assignment.state.in_(bookings.YES_STATES)
            )
        ):
            helpers.setdefault(need_id, set()).add(volunteer_id)
        for report in db.session.scalars(
            select(ActivityReport)
            .where(ActivityReport.need_id.in_(need_ids))
            .order_by(ActivityReport.reported_on, ActivityReport.id)
        ):
            reports.setdefault(report.need_id, []).append(report)
    areas = {a.id: a.name for a in db.session.scalars(select(LocalArea))}

    def latest(need_id: int, quarter: tuple[int, int] | None = None) -> int:
        found = [
            r
            for r in reports.get(need_id, [])
            if quarter is None or quarter_of(r.reported_on) == quarter
        ]
        return found[-1].participants if found else 0

    def row(label: str, needs: list[Need], quarter: tuple[int, int] | None = None) -> CoRow:
        people = set().union(*(helpers.get(n.id, set()) for n in needs)) if needs else set()
        return CoRow(
            label=label,
            activities=len(needs),
            helpers=len(people),
            participants=sum(latest(n.id, quarter) for n in needs),
        )

    by_area: dict[str, list[Need]] = {}
    for need, _made in rows:
        label = areas.get(need.local_area_id, none_label) if need.local_area_id else none_label
        by_area.setdefault(label, []).append(need)
    quarters = []
    for year, number in _last_quarters(today):
        # The activities that existed by the quarter's end, with what was reported in it.
        end = date(year + (number == 4), (number * 3) % 12 + 1, 1)
        alive = [need for need, made in rows if local_today(made) < end]
        quarters.append(
            row(_("Q%(number)d %(year)d", number=number, year=year), alive, (year, number))
        )
    return CoCreated(
        by_area=[row(label, needs) for label, needs in sorted(by_area.items())],
        by_quarter=quarters,
        total=row("", [need for need, _made in rows]),
    )
