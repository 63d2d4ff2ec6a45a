"""Forløb in the browser: the coordinators' list with the check-in tasks (/koordinator/forloeb),
a waiting person's candidates, proposing, a forløb's page with its moves; the volunteer's page
on Min side with the answer; and the one-click check-in answer (no login)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.bookings import booked_ahead
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.pairs import candidates as candidate_search
from volunteer.pairs import checkins, services
from volunteer.pairs.forms import (
    ANSWERS,
    END_REASONS,
    STATES,
    AnswerForm,
    CheckinChoiceForm,
    EmptyForm,
    MoveForm,
    PatternForm,
    ProposeForm,
)
from volunteer.pairs.models import EndReason
from volunteer.persons import services as persons
from volunteer.persons.services import can_see_contact
from volunteer.urls import external_url

bp = Blueprint("pairs", __name__)
STAFF = (Role.COORDINATOR, Role.ADMIN)

ERRORS = {
    "not_waiting": _l("The person is not waiting for a volunteer."),
    "has_forloeb": _l("The person already has a forløb under way."),
    "not_member": _l("Choose a volunteer of the person's organisation."),
    "no_activity": _l("Say first what the person would like (an activity)."),
    "in_past": _l("The first visit cannot be in the past."),
    "times": _l("The end must be after the start."),
    "state": _l("That cannot be done now. The page shows how things stand."),
    "clash": _l("The volunteer is busy at that time."),
    "over_capacity": _l("The volunteer's week is full."),
    "email_unconfirmed": _l("The volunteer must confirm their email address first."),
    "finished": _l("There is no date ahead for the visits."),
    "full": _l("The forløb already has its volunteer."),
}


@bp.app_template_global()
def forloeb_state_label(state: str) -> str:
    return str(STATES.get(state, state))  # type: ignore[call-overload]


@bp.app_template_global()
def end_reason_label(reason: str | None) -> str:
    return str(END_REASONS.get(reason, reason or ""))  # type: ignore[call-overload]


@bp.app_template_global()
def checkin_answer_label(answer: str | None) -> str:
    return str(ANSWERS.get(answer, answer or ""))  # type: ignore[call-overload]


@bp.app_template_global()
def need_admin_url(need: Any, external: bool = False) -> str:
    """Where a coordinator manages a need: a forløb's private need on its forløb's page, any
    other on the need's list of volunteers."""
    build = external_url if external else url_for
    if need.private:
        forloeb_id = services.forloeb_of_need(need.id)
        if forloeb_id is not None:
            return build("pairs.detail", forloeb_id=forloeb_id)
    return build("needs.people", need_id=need.id)


def _error(error: services.ForloebError) -> None:
    flash(str(ERRORS.get(error.code, ERRORS["state"])), "error")


# The coordinators'.


@bp.get("/koordinator/forloeb")
@role_required(*STAFF)
def index() -> str:
    """The forløb under way and the check-in answers that need a coordinator."""
    tasks, _total = checkins.tasks(current_user)
    return render_template(
        "pairs/index.html",
        pairs=services.for_organisations(current_user),
        tasks=tasks,
        form=EmptyForm(formdata=None),
    )


@bp.get("/koordinator/borgere/<int:person_id>/kandidater")
@role_required(*STAFF)
def candidates(person_id: int) -> str:
    """Volunteers for a waiting person at a weekly time, best first, with the reasons."""
    person = persons.visible_person(current_user, person_id)
    now = utcnow()
    form = PatternForm(request.args)
    pattern = None
    if request.args and form.validate():
        pattern = services.Pattern(
            form.weekday.data, form.start_time.data, form.end_time.data, form.start_date.data
        )
    elif not request.args:
        pattern = candidate_search.default_pattern(person, now)
        if pattern is not None:
            form = PatternForm(
                data={
                    "weekday": pattern.weekday,
                    "start_time": pattern.start_time,
                    "end_time": pattern.end_time,
                    "start_date": pattern.start_date,
                }
            )
    found = candidate_search.candidates(person, pattern, now) if pattern is not None else []
    return render_template(
        "pairs/candidates.html",
        person=person,
        form=form,
        pattern=pattern,
        candidates=found,
        propose_form=EmptyForm(formdata=None),
    )


@bp.post("/koordinator/borgere/<int:person_id>/foreslaa")
@role_required(*STAFF)
def propose(person_id: int) -> BaseResponse:
    person = persons.visible_person(current_user, person_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        flash(_("Something in the form was wrong. Please try again."), "error")
        return redirect(url_for("pairs.candidates", person_id=person.id))
    pattern = services.Pattern(
        form.weekday.data, form.start_time.data, form.end_time.data, form.start_date.data
    )
    now = utcnow()
    # The reasons are the engine's, found again here: never what the browser sent.
    chosen = next(
        (
            c
            for c in candidate_search.candidates(person, pattern, now)
            if c.volunteer.id == form.volunteer_id.data
        ),
        None,
    )
    explanation = chosen.explanation if chosen is not None else [["manual", {}]]
    try:
        forloeb = services.propose(
            current_user, person, form.volunteer_id.data, pattern, now, explanation
        )
    except services.ForloebError as error:
        _error(error)
        return redirect(url_for("pairs.candidates", person_id=person.id))
    flash(_("The volunteer is asked. You see the answer here."), "success")
    return redirect(url_for("pairs.detail", forloeb_id=forloeb.id))


@bp.get("/koordinator/forloeb/<int:forloeb_id>")
@role_required(*STAFF)
def detail(forloeb_id: int) -> str:
    forloeb = services.managed_forloeb(current_user, forloeb_id)
    now = utcnow()
    visits = booked_ahead(now, need_id=forloeb.need_id)[:5] if forloeb.need_id else []
    return render_template(
        "pairs/detail.html",
        forloeb=forloeb,
        visits=visits,
        form=MoveForm(formdata=None),
        task_form=EmptyForm(formdata=None),
        contact_visible=can_see_contact(current_user, forloeb.person),
        today=local_today(now),
    )


@bp.post("/koordinator/forloeb/<int:forloeb_id>/status")
@role_required(*STAFF)
def change_state(forloeb_id: int) -> BaseResponse:
    forloeb = services.managed_forloeb(current_user, forloeb_id)
    form = MoveForm()
    back = redirect(url_for("pairs.detail", forloeb_id=forloeb.id))
    if not form.validate_on_submit():
        flash(
            _("Choose why it ends.")
            if form.reason.errors
            else _("Something in the form was wrong. Please try again."),
            "error",
        )
        return back
    now = utcnow()
    try:
        if form.action.data == "yes":
            services.record_yes(current_user, forloeb, now)
            flash(_("The forløb has started. The visits are booked."), "success")
        elif form.action.data == "pause":
            services.pause(current_user, forloeb, now)
            flash(_("The forløb is paused. The visits ahead are cancelled."), "success")
        elif form.action.data == "resume":
            services.resume(current_user, forloeb, now)
            flash(_("The forløb goes on. The visits are booked again."), "success")
        else:
            services.end(
                current_user,
                forloeb,
                EndReason(form.reason.data),
                now,
                end_person=bool(form.end_person.data),
            )
            flash(_("The forløb has ended."), "success")
    except services.ForloebError as error:
        _error(error)
    return back


@bp.post("/koordinator/forloeb/opgaver/<int:checkin_id>/klaret")
@role_required(*STAFF)
def task_done(checkin_id: int) -> BaseResponse:
    form = EmptyForm()
    if form.validate_on_submit():
        checkins.mark_handled(current_user, checkin_id, utcnow())
        flash(_("The task is marked as handled."), "success")
    return redirect(url_for("pairs.index"))


# The volunteer's.


@bp.get("/min-side/forloeb/<int:forloeb_id>")
@role_required(Role.VOLUNTEER)
def volunteer_detail(forloeb_id: int) -> str:
    """The volunteer's forløb: a proposal to answer (the person's town and wishes, not their
    name), or the pair (the name; the address and phone only while it is active)."""
    forloeb = services.visible_forloeb(current_user, forloeb_id)
    now = utcnow()
    visits = (
        booked_ahead(now, volunteer_id=current_user.id, need_id=forloeb.need_id)[:5]
        if forloeb.need_id
        else []
    )
    return render_template(
        "pairs/volunteer_detail.html",
        forloeb=forloeb,
        visits=visits,
        form=AnswerForm(formdata=None),
        contact_visible=can_see_contact(current_user, forloeb.person),
    )


@bp.post("/min-side/forloeb/<int:forloeb_id>/svar")
@role_required(Role.VOLUNTEER)
def answer(forloeb_id: int) -> BaseResponse:
    forloeb = services.visible_forloeb(current_user, forloeb_id)
    form = AnswerForm()
    if form.validate_on_submit():
        yes = form.answer.data == "yes"
        try:
            services.answer(current_user, forloeb, yes, utcnow())
        except services.ForloebError as error:
            _error(error)
        else:
            flash(
                _("Thank you! Your visits are on My page.")
                if yes
                else _("Thank you for answering. The coordinator has been told."),
                "success",
            )
    return redirect(url_for("pairs.volunteer_detail", forloeb_id=forloeb.id))


# The check-in answer (the link is the permission).


@bp.route("/hvordan-gaar-det/<token>", methods=["GET", "POST"])
def checkin(token: str) -> str | BaseResponse:
    """ "Hvordan går det?" from the mail: GET shows the chosen answer and one button (the SMS's
    link: a button per answer); the POST records it (a GET never changes anything: mail
    scanners open links)."""
    try:
        found, chosen = checkins.read(token)
    except checkins.BadLink:
        flash(_("The link is no longer valid. Please call your coordinator."), "warning")
        return redirect(url_for("main.index"))
    # The SMS's one link names no answer: its page has a button for each.
    form = EmptyForm() if chosen is not None else CheckinChoiceForm()
    if found.answer is None and form.validate_on_submit():
        choice = form.answer.data if isinstance(form, CheckinChoiceForm) else None
        checkins.answer_by_link(token, utcnow(), choice)
        flash(_("Thank you for your answer."), "success")
        return redirect(url_for("pairs.checkin", token=token))
    if isinstance(form, CheckinChoiceForm) and request.method == "POST" and form.errors:
        flash(_("Press one of the answers."), "warning")
    context: dict[str, Any] = {
        "checkin": found,
        "chosen": chosen,
        "form": form,
        "answers": ANSWERS,
    }
    return render_template("pairs/checkin.html", **context)
