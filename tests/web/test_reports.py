"""Reports checked against figures worked out by hand on a small fixed dataset.

The dataset (organisation A unless said otherwise; times are Copenhagen wall-clock):

    need n1  spisevenner, area Juelsminde, opened 10 March, filled 20 March
    need n2  lektiecafé, no area, opened 25 October, 2 places, open, nobody accepted
    need n3  organisation B, spisevenner, opened 12 March

    visit  who  need  when                 state      hours  month (local)
    v1     P    n1    29.03.2026 00.30     confirmed  2      March   (DST day, before the switch)
    v2     Q    n1    29.03.2026 10.00     no_show           March   (DST day, after it)
    v3     P    n1    01.04.2026 00.30     confirmed  1.5    April   (31 March in UTC)
    v4     Q    n2    25.10.2026 23.30     confirmed  3      October (DST day, after the switch)
    v5     Q    n2    01.11.2026 00.30     cancelled         November (31 October in UTC)
    v6     R    n2    25.10.2026 12.00     scheduled         October (unanswered: not counted)
    v7     R    n3    15.03.2026 12.00     confirmed  5      March   (organisation B)
    v8     Q    n1    31.12.2025 23.30     confirmed  1      before the period
    v9     Q    n1    01.01.2027 00.30     confirmed  4      after it (2026 in UTC)

P later deletes their account: their visits still count. February has no data at all.
Volunteers: P signed up in February (member of A), Q in 2025 (member of A), R in March
(member of B only).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from support import factories
from support.auth import log_in
from support.factories import assignment, coordinator, member, occurrence, visit
from volunteer.audit import AuditEvent
from volunteer.clock import local_to_utc
from volunteer.extensions import db
from volunteer.models import LocalArea, NeedStatus, Role, VisitState
from volunteer.needs.services import next_start
from volunteer.reports import services
from volunteer.reports.charts import Chart, bar_chart, line_chart
from volunteer.reports.periods import Period, add_months, last_months, previous_quarter
from volunteer.volunteers import gdpr

NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)
YEAR = Period(date(2026, 1, 1), date(2027, 1, 1))
QUERY = "fra=2026-01&til=2026-12"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(day, time(hour, minute))


@pytest.fixture
def data(app):
    org, other = factories.organisation("Hedensted Kommune"), factories.organisation("Røde Kors")
    area = LocalArea(name="Juelsminde")
    db.session.add(area)
    spise = factories.activity_type("spisevenner")
    lektie = factories.activity_type("lektiecafe")
    n1 = factories.need(
        org,
        spise,
        title="Spiseven",
        local_area=area,
        status=NeedStatus.FILLED,
        opened_at=_at(date(2026, 3, 10), 10),
        filled_at=_at(date(2026, 3, 20), 10),
    )
    n2 = factories.need(
        org, lektie, title="Lektiecafé", slots=2, opened_at=_at(date(2026, 10, 25), 11)
    )
    n3 = factories.need(other, spise, title="Spiseven B", opened_at=_at(date(2026, 3, 12), 9))
    p = member(org, name="Pia Petersen", created_at=_at(date(2026, 2, 10), 9))
    q = member(org, name="Quirin Qvist", created_at=datetime(2025, 6, 1, tzinfo=UTC))
    r = member(other, name="Rasmus Ravn", created_at=_at(date(2026, 3, 1), 9))
    for volunteer, need in ((p, n1), (q, n1), (q, n2), (r, n3)):
        assignment(need, volunteer)

    def add(need, who, when, state, hours=None):
        v = visit(occurrence(need, when), who, state=state)
        v.hours = hours
        db.session.commit()
        return v

    visits = {
        "v1": add(n1, p, _at(date(2026, 3, 29), 0, 30), VisitState.CONFIRMED, 2),
        "v2": add(n1, q, _at(date(2026, 3, 29), 10), VisitState.NO_SHOW),
        "v3": add(n1, p, _at(date(2026, 4, 1), 0, 30), VisitState.CONFIRMED, 1.5),
        "v4": add(n2, q, _at(date(2026, 10, 25), 23, 30), VisitState.CONFIRMED, 3),
        "v5": add(n2, q, _at(date(2026, 11, 1), 0, 30), VisitState.CANCELLED),
        "v6": add(n2, r, _at(date(2026, 10, 25), 12), VisitState.SCHEDULED),
        "v7": add(n3, r, _at(date(2026, 3, 15), 12), VisitState.CONFIRMED, 5),
        "v8": add(n1, q, _at(date(2025, 12, 31), 23, 30), VisitState.CONFIRMED, 1),
        "v9": add(n1, q, _at(date(2027, 1, 1), 0, 30), VisitState.CONFIRMED, 4),
    }
    # Both are still open with a date ahead, so they wait for volunteers in the report (far
    # ahead: the export pages run on the real clock).
    for need in (n1, n2):
        occurrence(need, _at(date(2099, 1, 7), 16))
        need.next_starts_at = next_start(need.id, NOW)
    db.session.commit()
    gdpr.delete_account(p, factories.PASSWORD, NOW)
    return {
        "org": org,
        "other": other,
        "coordinator": coordinator(org),
        "admin": factories.user(role=Role.ADMIN),
        "q": q,
        **visits,
    }


def _figures(row):
    return (
        row.active_volunteers,
        row.new_volunteers,
        row.needs_opened,
        row.needs_filled,
        row.visits_held,
        row.no_shows,
        row.hours,
    )


def test_the_utc_instants_are_where_we_think(data):
    # The point of the dataset: these land in another month (or year) in UTC.
    assert data["v3"].occurrence.starts_at.month == 3
    assert data["v5"].occurrence.starts_at.month == 10
    assert data["v9"].occurrence.starts_at.year == 2026
    assert data["v1"].occurrence.starts_at.day == 28


def test_coordinator_figures_by_month(data):
    report = services.report_for(data["coordinator"], None, YEAR, NOW, "da")
    months = {row.key: row for row in report.by_month}
    assert list(months) == YEAR.months  # every month, with or without data
    #                                   active new opened filled held no-show hours
    assert _figures(months[date(2026, 2, 1)]) == (0, 1, 0, 0, 0, 0, 0.0)  # P, now deleted
    assert _figures(months[date(2026, 3, 1)]) == (1, 0, 1, 1, 1, 1, 2.0)
    assert _figures(months[date(2026, 4, 1)]) == (1, 0, 0, 0, 1, 0, 1.5)
    assert _figures(months[date(2026, 10, 1)]) == (1, 0, 1, 0, 1, 0, 3.0)
    assert _figures(months[date(2026, 11, 1)]) == (0, 0, 0, 0, 0, 0, 0.0)
    assert _figures(months[date(2026, 12, 1)]) == (0, 0, 0, 0, 0, 0, 0.0)
    assert months[date(2026, 3, 1)].no_show_rate == 0.5
    assert months[date(2026, 3, 1)].fill_rate == 1.0
    assert months[date(2026, 11, 1)].no_show_rate is None  # a cancellation is neither
    assert months[date(2026, 3, 1)].label == "mar. 2026"
    total = report.total
    assert _figures(total) == (2, 1, 2, 1, 3, 1, 6.5)
    assert total.no_show_rate == 0.25 and total.fill_rate == 0.5


def test_cancelled_visits_are_counted_in_their_local_month(data):
    report = services.report_for(data["coordinator"], None, YEAR, NOW, "da")
    months = {row.key: row.cancelled for row in report.by_month}
    # v5 starts 00.30 on 1 November in Denmark (still 31 October in UTC).
    assert months[date(2026, 11, 1)] == 1 and months[date(2026, 10, 1)] == 0
    assert report.total.cancelled == 1
    assert sum(months.values()) == 1


def test_coordinator_figures_by_activity_and_area(data):
    report = services.report_for(data["coordinator"], None, YEAR, NOW, "da", none_label="Intet")
    by_activity = {row.label: _figures(row) for row in report.by_activity}
    assert by_activity == {
        "Spisevenner": (1, None, 1, 1, 2, 1, 3.5),
        "Lektiecafe": (1, None, 1, 0, 1, 0, 3.0),
    }
    by_area = {row.label: _figures(row) for row in report.by_area}
    assert by_area == {
        "Juelsminde": (1, None, 1, 1, 2, 1, 3.5),
        "Intet": (1, None, 1, 0, 1, 0, 3.0),
    }
    assert [row.label for row in report.by_area] == ["Juelsminde", "Intet"]


def test_admin_sees_all_or_one_organisation(data):
    everything = services.report_for(data["admin"], None, YEAR, NOW, "da")
    assert _figures(everything.total) == (3, 2, 3, 1, 4, 1, 11.5)
    march = everything.by_month[2]
    assert _figures(march) == (2, 1, 2, 1, 2, 1, 7.0)
    other = services.report_for(data["admin"], data["other"].id, YEAR, NOW, "da")
    assert _figures(other.total) == (1, 1, 1, 0, 1, 0, 5.0)


def test_a_coordinator_cannot_ask_for_another_organisation(data):
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        services.report_for(data["coordinator"], data["other"].id, YEAR, NOW, "da")


def test_waiting_needs(data):
    report = services.report_for(data["coordinator"], None, YEAR, NOW, "da")
    # P's deletion freed a place on n1, which opened it again; Q holds one of n2's two.
    assert [(w.need.title, w.free_slots, w.days_waiting) for w in report.waiting] == [
        ("Spiseven", 1, 240),
        ("Lektiecafé", 1, 11),
    ]


def test_report_page(client, data):
    log_in(client, data["coordinator"])
    page = client.get(f"/rapporter/?{QUERY}").get_data(as_text=True)
    assert "Det har frivilligheden givet" in page
    assert page.count('role="img"') == 3 and "<title id=" in page
    assert "Røde Kors" not in page
    assert "<dd>6,5</dd>" in page and "<dd>25,0%</dd>" in page
    bad = client.get("/rapporter/?fra=2026-05&til=2026-01").get_data(as_text=True)
    assert "Den sidste måned må ikke ligge før den første." in bad
    assert client.get(f"/rapporter/?organisation={data['other'].id}").status_code == 404


def _danish_csv(response) -> list[list[str]]:
    """The rows as Danish Excel reads the file: UTF-8 after a byte order mark, split by ';'."""
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark: Excel garbles æøå"
    text = body.decode("utf-8-sig")
    assert csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;").delimiter == ";"
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_figures_csv_reads_back(client, data):
    log_in(client, data["coordinator"])
    response = client.get(f"/rapporter/tal.csv?{QUERY}")
    assert response.content_type == "text/csv; charset=utf-8"
    rows = _danish_csv(response)
    assert rows[0][:3] == ["Opdeling", "Navn", "Aktive frivillige"]
    assert {len(r) for r in rows} == {12}  # columns, not one long column
    march = next(r for r in rows if r[:2] == ["Måned", "mar. 2026"])
    assert march[2:] == ["1", "0", "1", "1", "1", "1", "1", "0,5", "0", "2"]
    total = next(r for r in rows if r[0] == "I alt")
    assert total[2:] == ["2", "1", "2", "1", "0,5", "3", "1", "0,25", "1", "6,5"]
    assert len([r for r in rows if r[0] == "Måned"]) == 12
    assert "Lokalområde" in [r[0] for r in rows] and ["Lokalområde", "Juelsminde"] in [
        r[:2] for r in rows
    ]


def test_csv_opens_as_columns_in_a_spreadsheet(client, data):
    """The file read the way a spreadsheet does, by openpyxl's own cell typing: with ';' the
    columns come apart, the decimal comma turns into a number and æøå survive."""
    log_in(client, data["coordinator"])
    rows = _danish_csv(client.get(f"/rapporter/tal.csv?{QUERY}"))
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([_as_danish_excel(cell) for cell in row])
    again = load_workbook(_saved(book)).active
    total = next(r for r in again.iter_rows(values_only=True) if r[0] == "I alt")
    assert total[2:] == (2, 1, 2, 1, 0.5, 3, 1, 0.25, 1, 6.5)
    assert again["A1"].value == "Opdeling" and again.max_column == 12
    assert any(r[1] == "mar. 2026" for r in again.iter_rows(values_only=True))


def _as_danish_excel(cell: str):
    """What Excel with Danish settings makes of a cell: '6,5' is 6.5, '3' is 3, else text."""
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        return float(cell.replace(",", ".")) if "," in cell else cell
    except ValueError:
        return cell


def _saved(book) -> io.BytesIO:
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_figures_xlsx_reads_back(client, data):
    log_in(client, data["admin"])
    response = client.get(f"/rapporter/tal.xlsx?{QUERY}&organisation={data['org'].id}")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Måned", "Aktivitet", "Lokalområde", "I alt", "Ventende opgaver"]
    months = list(book["Måned"].iter_rows(values_only=True))
    assert months[0][0] == "Navn" and len(months) == 13
    assert months[3] == ("mar. 2026", 1, 0, 1, 1, 1, 1, 1, 0.5, 0, 2)
    assert list(book["I alt"].iter_rows(values_only=True))[1][-1] == 6.5
    waiting = list(book["Ventende opgaver"].iter_rows(values_only=True))
    assert [row[0] for row in waiting[1:]] == ["Spiseven", "Lektiecafé"]


def test_volunteer_list_export_is_audited(client, data):
    log_in(client, data["coordinator"])
    response = client.get("/rapporter/frivillige.csv")
    rows = _danish_csv(response)
    assert rows[0] == ["Navn", "E-mail", "Telefon", "Aktiviteter"]
    assert [r[0] for r in rows[1:]] == ["Quirin Qvist"]  # P is deleted, R is B's
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volunteers.exported"))
    assert event.actor_id == data["coordinator"].id and event.details["count"] == 1


def test_status_page_for_the_committee(client, data):
    log_in(client, data["coordinator"])
    page = client.get("/rapporter/status?kvartal=2026-1").get_data(as_text=True)
    assert "Status for udvalget: frivilligheden i 1. kvartal 2026" in page
    assert "1 besøg gennemført, 2 timer givet af 1 frivillige." in page
    assert "css/print.css" in page
    assert "Skriv et kvartal" in client.get("/rapporter/status?kvartal=x").get_data(as_text=True)


def test_periods():
    assert last_months(date(2026, 11, 27)) == Period(date(2025, 12, 1), date(2026, 12, 1))
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert previous_quarter(date(2026, 2, 1)) == (2025, 4)
    assert previous_quarter(date(2026, 11, 27)) == (2026, 3)


def test_charts_are_accessible_svg():
    chart = Chart("c", "Besøg & timer", ["jan.", "feb."], [3, 0])
    for svg in (bar_chart(chart), line_chart(chart)):
        assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
        assert '<title id="c-title">Besøg &amp; timer</title>' in svg
        assert '<desc id="c-desc">jan.: 3; feb.: 0</desc>' in svg
        assert "style=" not in svg
        assert [f">{n}</text>" in svg for n in range(6)] == [True] * 6  # whole-number ticks


def test_waiting_needs_with_the_same_title_can_be_told_apart(client, data):
    """Two 'Spiseven' needs of one organisation: the rows name their weekday, time and place."""
    org = data["org"]
    activity = factories.activity_type("besoegsven")
    home = factories.centre(org, name="Plejecenter Bakkegården")
    tuesday = factories.need(org, activity, title="Spiseven", weekday=1, centre=home, opened_at=NOW)
    friday = factories.need(
        org,
        activity,
        title="Spiseven",
        postcode="8700",
        weekday=4,
        start_time=time(12),
        end_time=time(13),
        opened_at=NOW,
    )
    for need in (tuesday, friday):
        occurrence(need, _at(date(2099, 1, 7), 16))  # a date ahead: it still waits (see above)
        need.next_starts_at = next_start(need.id, NOW)
    db.session.commit()
    log_in(client, data["coordinator"])
    page = client.get(f"/rapporter/?{QUERY}").get_data(as_text=True)
    section = page[page.index('id="venter"') :]
    rows = [row for row in section.split("<tr>")[2:] if "Spiseven" in row]
    assert len(rows) == 3 and len(set(rows)) == 3
    assert any(
        "Hver tirsdag kl. 17.30–19.00" in r and "Plejecenter Bakkegården, 7130 Juelsminde" in r
        for r in rows
    )
    assert any("Hver fredag kl. 12.00–13.00" in r and "8700 Horsens" in r for r in rows)
    assert "Bakkevej" not in section  # the approximate line: no street
    response = client.get(f"/rapporter/tal.xlsx?{QUERY}")
    waiting = list(load_workbook(io.BytesIO(response.data))["Ventende opgaver"].values)
    assert waiting[0][:3] == ("Opgave", "Hvornår", "Sted")
    spiseven = [row[:3] for row in waiting[1:] if row[0] == "Spiseven"]
    assert len(spiseven) == 3 and len(set(spiseven)) == 3


def _label_boxes(svg: str) -> list[tuple[float, float, bool]]:
    """(left, right, rotated) of every category label, from the estimated text width."""
    import xml.etree.ElementTree as ET

    from volunteer.reports.charts import text_width

    ns = "{http://www.w3.org/2000/svg}"
    boxes = []
    for text in ET.fromstring(str(svg)).iter(f"{ns}text"):
        if text.get("class") != "chart-label":
            continue
        lines = [span.text for span in text.iter(f"{ns}tspan")] or [text.text]
        width = max(text_width(line) for line in lines)
        x = float(text.get("x"))
        boxes.append((x - width / 2, x + width / 2, "transform" in text.attrib))
    return boxes


@pytest.mark.parametrize("draw", [bar_chart, line_chart])
def test_chart_month_labels_do_not_overlap(draw):
    months = [
        f"{m} 2026" for m in "jan. feb. mar. apr. maj jun. jul. aug. sep. okt. nov. dec.".split()
    ]
    svg = draw(Chart("m", "Besøg", months, list(range(12))))
    boxes = _label_boxes(svg)
    assert len(boxes) == 12 and not any(rotated for *_, rotated in boxes)
    for (_, right, _r), (left, _, _r2) in zip(boxes, boxes[1:], strict=False):
        assert right < left, "neighbouring month labels overlap"
    assert ">mar.</tspan>" in svg and ">2026</tspan>" in svg  # month over year


def test_chart_long_labels_are_turned_and_shortened():
    names = [f"Aktivitet nummer {i} med et langt navn" for i in range(10)]
    svg = bar_chart(Chart("a", "Timer", names, [1] * 10))
    boxes = _label_boxes(svg)
    assert all(rotated for *_, rotated in boxes)
    assert "Aktivitet nummer 0 med et langt navn" in svg  # in full in the <desc>
    assert svg.count("…</text>") == 10
    height = float(svg.split('viewBox="0 0 640 ')[1].split('"')[0])
    assert height > 260  # room below the plot for the turned labels
