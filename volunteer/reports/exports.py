"""The report's figures as CSV and Excel: the same rows as the page, one block per grouping.

Every CSV goes through ``write_csv``: made for Excel as Danes have it, so a double click opens
it in columns with æøå intact: fields split by ``;`` (the list separator when the decimal
separator is a comma), numbers with a decimal comma, and a UTF-8 byte order mark first (without
it Excel reads the file as Windows-1252). Python reads it back with
``csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from volunteer.i18n import clock, short_date, weekday_name
from volunteer.needs.models import Need
from volunteer.needs.place import place_line
from volunteer.reports.services import Report, Row

DELIMITER = ";"
BOM = "\ufeff"


def number(value: float | int | None) -> str:
    """A figure as Danish Excel reads it: '3', '0,25', '6,5'; empty when undefined."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", ",")


def write_csv(rows: list[list[Any]]) -> bytes:
    """The one CSV writer: ``;``-separated, decimal comma, UTF-8 with a byte order mark."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    for row in rows:
        writer.writerow([number(v) if v is None or isinstance(v, int | float) else v for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def need_when(need: Need) -> str:
    """When a need happens, short enough for a table row: 'Hver tirsdag, 17.00–19.00'."""
    start, end = clock(need.start_time), clock(need.end_time)
    if need.is_weekly:
        return _(
            "Every %(weekday)s, %(start)s–%(end)s",
            weekday=weekday_name(need.weekday),
            start=start,
            end=end,
        )
    return f"{weekday_name(need.first_date.weekday())} {short_date(need.first_date)}, {start}–{end}"


def _headers() -> list[str]:
    return [
        _("Grouping"),
        _("Name"),
        _("Active volunteers"),
        _("New volunteers"),
        _("Needs opened"),
        _("Needs filled"),
        _("Fill rate"),
        _("Visits held"),
        _("No-shows"),
        _("No-show rate"),
        _("Cancelled visits"),
        _("Hours given"),
    ]


def _values(row: Row) -> list[Any]:
    return [
        row.active_volunteers,
        row.new_volunteers,
        row.needs_opened,
        row.needs_filled,
        row.fill_rate,
        row.visits_held,
        row.no_shows,
        row.no_show_rate,
        row.cancelled,
        row.hours,
    ]


def _sections(report: Report) -> list[tuple[str, list[Row]]]:
    return [
        (_("Month"), report.by_month),
        (_("Activity"), report.by_activity),
        (_("Local area"), report.by_area),
        (_("Total"), [report.total]),
    ]


def _waiting_headers() -> list[str]:
    return [
        _("Need"),
        _("When"),
        _("Place"),
        _("Organisation"),
        _("Activity"),
        _("Free places"),
        _("Days waiting"),
    ]


def _waiting_rows(report: Report) -> list[list[Any]]:
    return [
        [
            w.need.title,
            need_when(w.need),
            place_line(w.need, exact=False),
            w.need.organisation.name,
            w.need.activity_type.name_da,
            w.free_slots,
            w.days_waiting,
        ]
        for w in report.waiting
    ]


def figures_csv(report: Report) -> bytes:
    """One table: grouping, name, figures (rates as fractions, empty when undefined)."""
    rows: list[list[Any]] = [_headers()]
    for section, section_rows in _sections(report):
        for row in section_rows:
            label = _("All") if section == _("Total") else row.label
            rows.append([section, label, *_values(row)])
    return write_csv(rows)


def figures_xlsx(report: Report) -> bytes:
    """A workbook with a sheet per grouping and one for the waiting needs."""
    book = Workbook()
    book.remove(book.active)
    for section, rows in _sections(report):
        sheet = book.create_sheet(section[:31])
        sheet.append(_headers()[1:])
        for row in rows:
            sheet.append([_("All") if section == _("Total") else row.label, *_values(row)])
        for cells in sheet.iter_cols(min_col=6, max_col=6, min_row=2):
            for cell in cells:
                cell.number_format = "0.0%"
        for cells in sheet.iter_cols(min_col=9, max_col=9, min_row=2):
            for cell in cells:
                cell.number_format = "0.0%"
        _bold_header(sheet)
    waiting = book.create_sheet(_("Waiting needs")[:31])
    waiting.append(_waiting_headers())
    for values in _waiting_rows(report):
        waiting.append(values)
    _bold_header(waiting)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bold_header(sheet: Any) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def volunteers_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    return write_csv([[_("Name"), _("Email"), _("Phone"), _("Activities")], *map(list, rows)])
