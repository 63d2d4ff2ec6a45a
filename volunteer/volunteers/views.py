from __future__ import annotations

import json
from datetime import date, time

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from volunteer import bookings, printing
from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.catalogue import services as catalogue
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.i18n import long_date, short_date
from volunteer.needs.eligibility import suggestions
from volunteer.pairs import services as pairs
from volunteer.reports import history
from volunteer.volunteers import calendar, data_page, gdpr, services
from volunteer.volunteers import cannot_come as cannot_come_links
from volunteer.volunteers.forms import (
    AwayPeriodForm,
    CancelVisitForm,
    CannotComeForm,
    DeleteAccountForm,
    ProfileForm,
)

bp = Blueprint("volunteers", __name__)


def _today() -> date:
    return local_today(utcnow())


@bp.get("/")
@login_required
def home() -> str:
    now = utcnow()
    return render_template(
        "volunteers/home.html",
        overview=services.overview(current_user, now),
        forloeb=pairs.for_volunteer(current_user) if current_user.role == Role.VOLUNTEER else [],
        suggestions=suggestions(current_user, now),
    )


def _profile_form() -> ProfileForm:
    profile = services.profile_of(current_user)
    form = ProfileForm(obj=profile) if request.method == "GET" else ProfileForm()
    form.interests.choices = [
        SelectChoice(a.id, a.name(current_user.locale)) for a in catalogue.activity_types()
    ]
    form.organisations.choices = [SelectChoice(o.id, o.name) for o in catalogue.organisations()]
    if request.method == "GET":
        form.name.data = current_user.name
        form.phone.data = current_user.phone
        form.max_km.data = round(profile.max_km)
        form.interests.data = [a.id for a in profile.interests]
        form.organisations.data = [o.id for o in profile.organisations]
    return form


@bp.route("/oplysninger", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def profile() -> str | BaseResponse:
    form = _profile_form()
    if form.validate_on_submit():
        services.update_profile(
            current_user,
            name=form.name.data,
            phone=form.phone.data,
            postcode=form.postcode.data,
            address=form.address.data,
            max_km=form.max_km.data,
            weekly_capacity=form.weekly_capacity.data,
            interest_ids=form.interests.data,
            languages=form.languages.data,
            organisation_ids=form.organisations.data,
            skills=form.skills.data or "",
            about=form.about.data or "",
            paused_until=form.paused_until.data,
            gender=form.gender.data or "",
        )
        flash(_("Your details are saved."), "success")
        return redirect(url_for("volunteers.profile"))
    return render_template("volunteers/profile.html", form=form)


@bp.route("/fravaer", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def away() -> str | BaseResponse:
    form = AwayPeriodForm()
    if form.validate_on_submit():
        try:
            added = services.add_away_period(
                current_user, form.start_date.data, form.end_date.data, _today()
            )
        except services.DateInPast:
            form.start_date.errors.append(
                _("The first day cannot be in the past. Choose today or a later date.")
            )
        else:
            return _after_adding(added)
    return render_template(
        "volunteers/away.html", form=form, periods=services.away_overview(current_user, utcnow())
    )


def _after_adding(added: services.AwayAdded) -> BaseResponse:
    """Say what happened to the new period, and send the volunteer to the visits inside it."""
    period = added.period
    if added.merged:
        flash(
            _(
                "The period is merged with the days away you had already added. "
                "You are now away %(start)s – %(end)s.",
                start=long_date(period.start_date),
                end=long_date(period.end_date),
            ),
            "success",
        )
    else:
        flash(_("The away period is saved."), "success")
    now = utcnow()
    booked = [v for v in added.visits_inside if v.occurrence.starts_at > now]
    if not booked:
        return redirect(url_for("volunteers.away"))
    flash(
        ngettext(
            "You have %(num)d visit booked in the period. The centre still expects you: "
            "choose whether to cancel it.",
            "You have %(num)d visits booked in the period. The centre still expects you: "
            "choose which to cancel.",
            len(booked),
        ),
        "warning",
    )
    return redirect(url_for("volunteers.away_visits", period_id=period.id))


def _chosen_ids(values: list[str]) -> list[int]:
    """Checkbox values → visit ids; anything that is not a plain, sane id is refused."""
    if not all(v.isdecimal() and len(v) <= 9 for v in values):
        raise ValueError(values)
    return [int(v) for v in values]


@bp.route("/fravaer/<int:period_id>/besoeg", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def away_visits(period_id: int) -> str | BaseResponse:
    """The visits still booked while the volunteer is away: cancel the chosen ones or keep them."""
    now = utcnow()
    period, visits = services.away_visits(current_user, period_id, now)  # NotFound first
    if request.method == "POST":
        here = url_for("volunteers.away_visits", period_id=period_id)
        if request.form.get("action") == "keep":
            flash(_("Your visits are kept. The centre still expects you."), "info")
            return redirect(url_for("volunteers.away"))
        try:
            chosen = _chosen_ids(request.form.getlist("visit"))
        except ValueError:
            flash(_("Something in the form was wrong. Please try again."), "error")
            return redirect(here)
        if not chosen:
            flash(_("Choose the visits you want to cancel, or keep them."), "error")
            return redirect(here)
        reason = _(
            "I am away from %(start)s to %(end)s.",
            start=short_date(period.start_date),
            end=short_date(period.end_date),
        )
        try:
            cancelled = services.cancel_visits_while_away(
                current_user, period_id, chosen, now, reason
            )
        except services.NotAllowed:
            flash(
                _(
                    "One of the chosen visits is not in this period, or it can no longer be "
                    "cancelled. Nothing was cancelled. Please choose again."
                ),
                "error",
            )
            return redirect(here)
        flash(
            ngettext(
                "%(num)d visit is cancelled. The coordinator has been told.",
                "%(num)d visits are cancelled. The coordinator has been told.",
                len(cancelled),
            ),
            "success",
        )
        return redirect(url_for("volunteers.away"))
    return render_template("volunteers/away_visits.html", period=period, visits=visits)


@bp.post("/fravaer/<int:period_id>/slet")
@role_required(Role.VOLUNTEER)
def remove_away(period_id: int) -> BaseResponse:
    services.remove_away_period(current_user, period_id)
    flash(_("The away period is removed."), "success")
    return redirect(url_for("volunteers.away"))


@bp.route("/tider", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def availability() -> str | BaseResponse:
    profile = services.profile_of(current_user)
    if request.method == "POST":
        try:
            slots = services.parse_slots(request.form.getlist("slot"))
        except ValueError:
            flash(_("Something in the form was wrong. Please try again."), "error")
            return redirect(url_for("volunteers.availability"))
        services.save_availability(current_user, slots)
        flash(_("Your times are saved."), "success")
        return redirect(url_for("volunteers.availability"))
    return render_template(
        "volunteers/availability.html",
        profile=profile,
        blocks=[(start, time(start), time(end)) for start, end in services.TIME_BLOCKS],
        chosen=services.chosen_blocks(profile),
    )


@bp.get("/besoeg")
@role_required(Role.VOLUNTEER)
def visits() -> str:
    return render_template(
        "volunteers/visits.html",
        overview=services.visits_page(current_user, utcnow()),
    )


@bp.get("/besoeg/skema.pdf")
@role_required(Role.VOLUNTEER)
def schedule_pdf() -> Response:
    """The coming weeks' visits on paper (A4, 14 pt): for the fridge."""
    data = printing.volunteer_schedule(current_user, utcnow())
    return printing.pdf_response(data, "mine-besoeg.pdf")


@bp.get("/historik")
@role_required(Role.VOLUNTEER)
def history_page() -> str:
    now = utcnow()
    return render_template(
        "volunteers/history.html",
        visits=history.past_visits(current_user, now),
        years=history.yearly_summary(current_user),
    )


@bp.get("/historik/bevis")
@role_required(Role.VOLUNTEER)
def certificate() -> str:
    return render_template(
        "volunteers/certificate.html",
        certificate=history.certificate(current_user),
        today=_today(),
    )


@bp.route("/aftaler/<int:assignment_id>/meld-fra", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def withdraw(assignment_id: int) -> str | BaseResponse:
    assignment = services.own_assignment(current_user, assignment_id)
    if request.method == "POST":
        try:
            services.withdraw(current_user, assignment_id, utcnow())
        except services.NotAllowed:
            flash(_("You are no longer part of this activity."), "error")
        else:
            flash(_("You have left the activity. The coordinator has been told."), "success")
        return redirect(url_for("volunteers.visits"))
    return render_template("volunteers/withdraw.html", assignment=assignment)


@bp.route("/besoeg/<int:visit_id>/aflys", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def cancel_visit(visit_id: int) -> str | BaseResponse:
    visit = services.own_visit(current_user, visit_id)
    form = CancelVisitForm()
    if form.validate_on_submit():
        try:
            services.cancel_visit(current_user, visit_id, form.reason.data, utcnow())
        except services.NotAllowed:
            flash(_("This visit cannot be cancelled any more."), "error")
        else:
            flash(_("The visit is cancelled. The coordinator has been told."), "success")
        return redirect(url_for("volunteers.visits"))
    return render_template("volunteers/cancel_visit.html", visit=visit, form=form)


@bp.route("/afbud/<token>", methods=["GET", "POST"])
def cannot_come(token: str) -> str | BaseResponse:
    """ "Kan ikke komme" from a reminder: no login (the link is the permission). GET shows the
    visit and asks; the POST calls it off."""
    try:
        visit = cannot_come_links.read(token)
    except cannot_come_links.BadLink:
        flash(_("The link is no longer valid. Log in to see and cancel your visits."), "warning")
        return redirect(url_for("volunteers.visits"))
    now = utcnow()
    form = CannotComeForm()
    if bookings.cancellable(visit, now) and form.validate_on_submit():
        try:
            cannot_come_links.cancel(token, form.reason.data or "", now)
        except (cannot_come_links.BadLink, services.NotAllowed):
            pass  # cancelled or started meanwhile: the page below says which
        else:
            flash(_("Thank you for letting us know."), "success")
            return redirect(url_for("volunteers.cannot_come", token=token))
    return render_template(
        "volunteers/cannot_come.html", visit=visit, form=form, open=bookings.cancellable(visit, now)
    )


@bp.get("/kalender")
@role_required(Role.VOLUNTEER)
def calendar_page() -> str:
    token = calendar.token_for(current_user)
    feed_url = url_for("volunteers.calendar_feed", token=token, _external=True)
    return render_template("volunteers/calendar.html", feed_url=feed_url)


@bp.post("/kalender/nyt-link")
@role_required(Role.VOLUNTEER)
def renew_calendar() -> BaseResponse:
    calendar.renew_token(current_user)
    flash(_("You have a new calendar link. The old one no longer works."), "success")
    return redirect(url_for("volunteers.calendar_page"))


@bp.get("/kalender/<token>.ics")
def calendar_feed(token: str) -> Response:
    """No login: calendar apps cannot log in. The token is the secret."""
    response = Response(calendar.feed(token, utcnow()), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/mine-data")
@login_required
def my_data() -> str:
    return render_template("volunteers/my_data.html")


@bp.get("/mine-data.json")
@login_required
def export_json() -> Response:
    data = gdpr.export(current_user, actor=current_user)
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = "attachment; filename=samskab-mine-data.json"
    return response


@bp.get("/mine-data/vis")
@login_required
def export_html() -> str:
    data = gdpr.export(current_user, actor=current_user)
    return render_template(
        "volunteers/export.html", sections=data_page.sections(data, str(current_user.locale))
    )


@bp.route("/slet-konto", methods=["GET", "POST"])
@login_required
def delete_account() -> str | BaseResponse:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            gdpr.delete_account(current_user, form.password.data, utcnow())
        except gdpr.WrongPassword:
            form.password.errors.append(_("The password is not correct."))
        else:
            logout_user()
            flash(_("Your account and your personal data are deleted."), "success")
            return redirect(url_for("main.index"))
    return render_template("volunteers/delete.html", form=form)
