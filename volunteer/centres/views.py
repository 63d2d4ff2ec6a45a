from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from volunteer import printing
from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.centres import services
from volunteer.centres.forms import HelpRequestForm, VisitOutcomeForm
from volunteer.clock import local_today
from volunteer.db import utcnow

bp = Blueprint("centres", __name__)

LINK_STATUS = {
    services.LinkProblem.INVALID: 400,
    services.LinkProblem.EXPIRED: 410,
    services.LinkProblem.NOT_YOURS: 404,
}


def _prefix(visit_id: int) -> str:
    return f"v{visit_id}"


def _help_form() -> HelpRequestForm:
    form = HelpRequestForm()
    form.centre_id.choices = [(c.id, c.name) for c in services.help_centres(current_user)]
    form.activity_type_id.choices = [
        (a.id, a.name(current_user.locale)) for a in services.activity_types()
    ]
    return form


def _hours(form: VisitOutcomeForm) -> float | None:
    return float(form.hours.data) if form.hours.data is not None else None


def _flash_recorded(result: services.Recorded) -> None:
    if result.changed:
        flash(_("Thank you, it is recorded."), "success")
    else:
        flash(_("That was already recorded."), "info")


def _index(help_form: HelpRequestForm) -> str:
    now = utcnow()
    return render_template(
        "centres/index.html",
        overview=services.staff_overview(current_user, now),
        centres=current_user.centres,
        help_form=help_form,
        now=now,
    )


@bp.get("/")
@role_required(Role.CENTRE)
def index() -> str:
    return _index(_help_form())


@bp.get("/uge.pdf")
@role_required(Role.CENTRE)
def week_pdf() -> Response:
    """The week's expected visitors at the user's centres on paper (``?uge=2026-W49``; this
    week by default), for the notice board and the reception."""
    today = local_today(utcnow())
    monday = printing.iso_monday(request.args.get("uge"), today)
    if monday is None:
        flash(_("Choose a week like 2026-W49."), "error")
        return redirect(url_for("centres.index"))
    data = printing.centre_week(list(current_user.centres), monday, today)
    return printing.pdf_response(data, f"besoeg-uge-{monday.isocalendar().week}.pdf")


@bp.post("/besoeg/<int:visit_id>")
@role_required(Role.CENTRE)
def record(visit_id: int) -> Response:
    services.staff_visit(current_user, visit_id)  # 404 before anything else
    form = VisitOutcomeForm(prefix=_prefix(visit_id))
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    else:
        try:
            result = services.record_visit(
                current_user, visit_id, form.outcome.data, utcnow(), _hours(form), form.note.data
            )
        except services.TooEarly:
            flash(_("The visit has not started yet. You can confirm it when it has."), "error")
        else:
            _flash_recorded(result)
    return redirect(url_for("centres.index", _anchor=f"besoeg-{visit_id}"))


@bp.route("/link/<token>", methods=["GET", "POST"])
def visit_link(token: str) -> str | tuple[str, int]:
    """No login: the signed token is the permission (see services.read_action_link).
    GET only shows what will happen; the change needs the POST from this page."""
    now = utcnow()
    try:
        action = services.read_action_link(token, now)
    except services.BadLink as exc:
        return render_template("centres/link_error.html", problem=exc.problem), LINK_STATUS[
            exc.problem
        ]
    form = VisitOutcomeForm(prefix="link")
    if form.validate_on_submit():
        try:
            result = services.record_from_link(token, now, _hours(form), form.note.data)
        except services.TooEarly:
            return render_template(
                "centres/link_error.html", problem="too_early", action=action
            ), 409
        return render_template("centres/link_done.html", action=action, result=result)
    if not form.is_submitted():
        form.hours.data = services.default_hours(action.visit)
    return render_template("centres/link_confirm.html", action=action, form=form, now=now)


@bp.post("/bed-om-hjaelp")
@role_required(Role.CENTRE)
def ask_for_help() -> str | Response:
    form = _help_form()
    if form.validate_on_submit():
        request = services.HelpRequest(
            centre_id=form.centre_id.data,
            activity_type_id=form.activity_type_id.data,
            weekday=form.weekday.data,
            start_time=form.start_time.data,
            end_time=form.end_time.data,
            slots=form.slots.data,
            text=form.text.data,
        )
        try:
            services.ask_for_help(current_user, request, utcnow())
        except services.HelpRequestError as exc:
            getattr(form, exc.field).errors.append(
                _("The end must be after the start.")
                if exc.field == "end_time"
                else _("Choose an activity.")
            )
        else:
            flash(
                _("Thank you. The coordinators have been told and will get back to you."),
                "success",
            )
            return redirect(url_for("centres.index"))
    return _index(form)
