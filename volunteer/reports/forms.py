"""The report filter: a period of whole months and, for admins, one organisation."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from volunteer.forms import SamskabForm
from volunteer.reports.periods import Period, add_months, last_months, quarter

MAX_MONTHS = 36
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-([1-4])$")


def parse_month(value: str | None) -> date | None:
    match = _MONTH.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def _month(form: FlaskForm, field: Field) -> None:
    if field.data and parse_month(field.data) is None:
        raise ValidationError(_l("Write a month as year-month, e.g. 2026-03."))


class ReportFilterForm(SamskabForm):
    """Sent by GET, so it can be bookmarked and shared; it changes nothing, so no CSRF."""

    class Meta:
        csrf = False

    fra = StringField(_l("From month"), validators=[Optional(), _month])
    til = StringField(_l("To month"), validators=[Optional(), _month])
    organisation = SelectField(_l("Organisation"), coerce=int, default=0)

    def validate_til(self, field: Field) -> None:
        first, last = parse_month(self.fra.data), parse_month(field.data)
        if first and last and last < first:
            raise ValidationError(_l("The last month must not be before the first."))
        if first and last and add_months(last, 1 - MAX_MONTHS) > first:
            raise ValidationError(_l("Choose at most 36 months."))

    def period(self, today: date) -> Period:
        """The chosen months; the last 12 months when nothing (valid) is chosen."""
        default = last_months(today)
        if self.errors:
            return default
        first, last = parse_month(self.fra.data), parse_month(self.til.data)
        if first is None and last is None:
            return default
        if first is None:
            first = add_months(last, -11)  # type: ignore[arg-type]
        if last is None:
            last = add_months(first, 11)
        return Period(first, add_months(last, 1))


class StatusForm(SamskabForm):
    class Meta:
        csrf = False

    kvartal = StringField(_l("Quarter"), validators=[Optional()])
    organisation = SelectField(_l("Organisation"), coerce=int, default=0)

    def validate_kvartal(self, field: Field) -> None:
        if field.data and not _QUARTER.match(field.data):
            raise ValidationError(_l("Write a quarter as year-number, e.g. 2026-1."))

    def quarter(self, default: tuple[int, int]) -> tuple[int, int, Period]:
        match = _QUARTER.match(self.kvartal.data or "")
        year, number = (int(match.group(1)), int(match.group(2))) if match else default
        return year, number, quarter(year, number)
