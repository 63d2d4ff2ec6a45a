from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.pairs import services as pairs
from volunteer.reports import charts, cocreated, exports, services
from volunteer.reports.forms import ReportFilterForm, StatusForm
from volunteer.reports.periods import previous_quarter

bp = Blueprint("reports", __name__)


@bp.app_template_filter("hours")
def hours_filter(value: float) -> str:
    """Hours with at most one decimal, in the locale's notation: '46' / '2,5'."""
    return format_decimal(value, format="#,##0.#")


bp.app_template_filter("need_when")(exports.need_when)


@bp.app_template_filter("percent")
def percent_filter(value: float | None) -> str:
    return "–" if value is None else format_percent(value, format="#,##0.0%")


def _organisation_choices(form: ReportFilterForm | StatusForm) -> None:
    everything = (
        _("All organisations") if current_user.role == Role.ADMIN else _("All my organisations")
    )
    form.organisation.choices = [(0, everything)] + [
        (o.id, o.name) for o in services.organisations_for(current_user)
    ]


def _filter_form() -> ReportFilterForm:
    form = ReportFilterForm(request.args)
    _organisation_choices(form)
    form.validate()
    return form


def _report(form: ReportFilterForm) -> services.Report:
    now = utcnow()
    return services.report_for(
        current_user,
        form.organisation.data or None,
        form.period(local_today(now)),
        now,
        str(current_user.locale),
        none_label=_("No local area"),
    )


def _charts(report: services.Report, prefix: str) -> list[tuple[charts.Chart, str]]:
    """The charts of a report page, each to be shown with its data table."""
    months = [row.label for row in report.by_month]
    return [
        (
            charts.Chart(
                f"{prefix}-besoeg",
                _("Visits held per month"),
                months,
                [row.visits_held for row in report.by_month],
                lambda v: format_decimal(v, format="#,##0"),
            ),
            "bar",
        ),
        (
            charts.Chart(
                f"{prefix}-timer",
                _("Hours given per month"),
                months,
                [row.hours for row in report.by_month],
                hours_filter,
            ),
            "line",
        ),
        (
            charts.Chart(
                f"{prefix}-aktivitet",
                _("Hours given per activity"),
                [row.label for row in report.by_activity],
                [row.hours for row in report.by_activity],
                hours_filter,
            ),
            "bar",
        ),
    ]


def _rendered(items: list[tuple[charts.Chart, str]]) -> list[tuple[charts.Chart, object]]:
    return [
        (chart, charts.bar_chart(chart) if kind == "bar" else charts.line_chart(chart))
        for chart, kind in items
    ]


def _co_created(form: ReportFilterForm) -> cocreated.CoCreated:
    return cocreated.co_created(
        services.scope_for(current_user, form.organisation.data or None),
        local_today(utcnow()),
        none_label=_("No local area"),
    )


def _co_charts(co: cocreated.CoCreated) -> list[tuple[charts.Chart, str]]:
    quarters = [row.label for row in co.by_quarter]
    count = lambda v: format_decimal(v, format="#,##0")  # noqa: E731
    return [
        (
            charts.Chart(
                "r-samskabt",
                _("Co-created activities per quarter"),
                quarters,
                [row.activities for row in co.by_quarter],
                count,
            ),
            "bar",
        ),
        (
            charts.Chart(
                "r-deltagere",
                _("Participants in co-created activities per quarter"),
                quarters,
                [row.participants for row in co.by_quarter],
                count,
            ),
            "line",
        ),
        (
            charts.Chart(
                "r-samskabt-omraade",
                _("Co-created activities per local area"),
                [row.label for row in co.by_area],
                [row.activities for row in co.by_area],
                count,
            ),
            "bar",
        ),
    ]


@bp.get("/")
@role_required(Role.COORDINATOR, Role.ADMIN)
def index() -> str:
    form = _filter_form()
    report = _report(form)
    co = _co_created(form)
    return render_template(
        "reports/index.html",
        form=form,
        report=report,
        charts=_rendered(_charts(report, "r")),
        pairs=pairs.figures(report.scope.organisation_ids, local_today(utcnow())),
        co=co,
        co_charts=_rendered(_co_charts(co)) if co.total.activities else [],
    )


@bp.get("/samskabt.csv")
@role_required(Role.COORDINATOR, Role.ADMIN)
def export_co_created() -> Response:
    """The co-created activities, helpers and participants by local area and per quarter."""
    co = _co_created(_filter_form())
    rows: list[list[object]] = [
        [_("Grouping"), _("Name"), _("Activities"), _("Helpers"), _("Participants")]
    ]
    for section, section_rows in (
        (_("By local area"), co.by_area),
        (_("By quarter"), co.by_quarter),
    ):
        for row in section_rows:
            rows.append([section, row.label, row.activities, row.helpers, row.participants])
    return _download(exports.write_csv(rows), "text/csv", "samskab-samskabte.csv")


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@bp.get("/tal.csv")
@role_required(Role.COORDINATOR, Role.ADMIN)
def export_csv() -> Response:
    report = _report(_filter_form())
    return _download(exports.figures_csv(report), "text/csv", "samskab-tal.csv")


@bp.get("/tal.xlsx")
@role_required(Role.COORDINATOR, Role.ADMIN)
def export_xlsx() -> Response:
    report = _report(_filter_form())
    return _download(
        exports.figures_xlsx(report),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "samskab-tal.xlsx",
    )


@bp.get("/frivillige.csv")
@role_required(Role.COORDINATOR, Role.ADMIN)
def export_volunteers() -> Response:
    form = _filter_form()
    rows = services.volunteer_list(current_user, form.organisation.data or None)
    return _download(exports.volunteers_csv(rows), "text/csv", "samskab-frivillige.csv")


@bp.get("/status")
@role_required(Role.COORDINATOR, Role.ADMIN)
def status() -> str:
    form = StatusForm(request.args)
    _organisation_choices(form)
    form.validate()
    now = utcnow()
    year, number, period = form.quarter(previous_quarter(local_today(now)))
    report = services.report_for(
        current_user,
        form.organisation.data or None,
        period,
        now,
        str(current_user.locale),
        none_label=_("No local area"),
    )
    return render_template(
        "reports/status.html",
        form=form,
        report=report,
        year=year,
        number=number,
        charts=_rendered(_charts(report, "s")),
        today=local_today(now),
    )
