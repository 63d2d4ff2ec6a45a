"""The report's figures as CSV and Excel: the same rows as the page, one block per grouping."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from volunteer.reports.services import Report, Row


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
    return [_("Need"), _("Organisation"), _("Activity"), _("Free places"), _("Days waiting")]


def _waiting_rows(report: Report) -> list[list[Any]]:
    return [
        [
            w.need.title,
            w.need.organisation.name,
            w.need.activity_type.name_da,
            w.free_slots,
            w.days_waiting,
        ]
        for w in report.waiting
    ]


def figures_csv(report: Report) -> str:
    """One table: grouping, name, figures (rates as fractions, empty when undefined)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers())
    for section, rows in _sections(report):
        for row in rows:
            label = _("All") if section == _("Total") else row.label
            writer.writerow(
                [section, label, *("" if v is None else round(v, 4) for v in _values(row))]
            )
    return out.getvalue()


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


def volunteers_csv(rows: list[tuple[str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Email"), _("Phone"), _("Activities")])
    writer.writerows(rows)
    return out.getvalue()
