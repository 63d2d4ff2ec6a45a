"""The coordinator's pages: the start page, the matching (queue a run, follow it, review the
proposals, approve, reject or swap them) and the volunteers (list, detail, certificates)."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from volunteer import bookings, printing
from volunteer.auth import managed, oidc
from volunteer.auth.decorators import role_required
from volunteer.auth.forms import ConfirmEmailForm
from volunteer.auth.models import Role
from volunteer.auth.services import EmailTaken, UnknownPostcode
from volunteer.catalogue import services as catalogue
from volunteer.clock import local_today
from volunteer.coordination import approvals, attention, proposals, runs, services
from volunteer.coordination.models import MatchRun, RunState
from volunteer.db import utcnow
from volunteer.forms import SamskabForm
from volunteer.i18n import select_locale
from volunteer.needs import manage, signup
from volunteer.needs import services as needs_services
from volunteer.urls import form_id, page_number
from volunteer.volunteers import services as volunteer_services
from volunteer.volunteers import staff
from volunteer.volunteers.forms import (
    CertificateForm,
    InvitationForm,
    ManagedVolunteerForm,
    SignUpForVolunteerForm,
    VolunteerFilterForm,
)

bp = Blueprint("coordination", __name__)


@bp.get("/")
@role_required(Role.COORDINATOR, Role.ADMIN)
def index() -> str:
    """The start page: what needs attention in the coordinator's organisations."""
    return render_template(
        "coordination/index.html", attention=attention.attention_for(current_user, utcnow())
    )


@bp.get("/opgaver")
@role_required(Role.COORDINATOR, Role.ADMIN)
def needs() -> str:
    """The organisations' needs, with their status and places."""
    cards = needs_services.cards_for(services.needs_for(current_user), utcnow())
    return render_template("coordination/needs.html", cards=cards)


# The matching.

UNMATCHED_REASONS = {
    "no_volunteers": _l("No volunteers in the organisation can be asked right now."),
    "too_far": _l("No one lives within reach."),
    "not_free": _l("No one within reach is free at that time."),
    "certificate_missing": _l("No one within reach and free has a valid child certificate."),
    "language": _l("No one within reach and free speaks the language asked for."),
    "busy": _l("Those who could are matched to other needs or have no time left."),
}


class MatchForm(SamskabForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    local_area_id = SelectField(
        _l("Local area"), coerce=int, choices=[SelectChoice(0, _l("All areas"))]
    )
    activity_type_id = SelectField(
        _l("Activity"), coerce=int, choices=[SelectChoice(0, _l("All activities"))]
    )


def _int_list(name: str) -> list[int]:
    return [i for i in map(form_id, request.form.getlist(name)) if i is not None]


@bp.route("/matchning", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def run_matching() -> str | Response:
    form = MatchForm()
    form.organisation_id.choices = [
        (o.id, o.name) for o in manage.manageable_organisations(current_user)
    ]
    form.local_area_id.choices = [(0, _("All areas"))] + [
        (a.id, a.name) for a in catalogue.local_areas()
    ]
    form.activity_type_id.choices = [(0, _("All activities"))] + [
        (a.id, a.name(select_locale())) for a in catalogue.activity_types()
    ]
    if form.validate_on_submit():
        try:
            run = runs.queue(
                current_user,
                form.organisation_id.data,
                utcnow(),
                local_area_id=form.local_area_id.data or None,
                activity_type_id=form.activity_type_id.data or None,
            )
        except proposals.NotAllowed:
            abort(403)
        except runs.RunInProgress as busy:
            flash(
                _(
                    "A matching run for this organisation is already under way; a new one can "
                    "start when it is finished. Here is how it is going."
                ),
                "warning",
            )
            return redirect(url_for("coordination.run_progress", run_id=busy.run_id))
        return redirect(url_for("coordination.run_progress", run_id=run.id))
    return render_template("coordination/matching.html", form=form)


def _panel(run: MatchRun) -> dict[str, Any]:
    """What the status panel shows; ``key`` changes exactly when the panel does, so the page's
    script replaces (and the live region reads out) only real news."""
    late = runs.waiting_too_long(run, utcnow())
    return {"run": run, "late": late, "key": f"{run.state}-late" if late else str(run.state)}


@bp.get("/matchning/<int:run_id>/status")
@role_required(Role.COORDINATOR, Role.ADMIN)
def run_progress(run_id: int) -> str:
    run = runs.visible_run(current_user, run_id) or abort(404)
    return render_template("coordination/run.html", **_panel(run))


@bp.get("/matchning/<int:run_id>/status.json")
@role_required(Role.COORDINATOR, Role.ADMIN)
def run_progress_json(run_id: int) -> Response:
    """What static/js/run-progress.js polls: the panel's key and HTML, and whether to go on."""
    run = runs.visible_run(current_user, run_id) or abort(404)
    panel = _panel(run)
    response = jsonify(
        key=panel["key"],
        finished=run.finished,
        html=render_template("coordination/_run_status.html", **panel),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/matchning/<int:run_id>")
@role_required(Role.COORDINATOR, Role.ADMIN)
def review(run_id: int) -> str | Response:
    result = proposals.review(current_user, run_id) or abort(404)
    if result.run.state != RunState.DONE:
        return redirect(url_for("coordination.run_progress", run_id=run_id))
    today = local_today(utcnow())
    shortlists = proposals.shortlists([need for need, _proposals in result.groups], today)
    return render_template(
        "coordination/review.html",
        review=result,
        shortlists=shortlists,
        reasons=UNMATCHED_REASONS,
    )


@bp.post("/matchning/<int:run_id>/beslut")
@role_required(Role.COORDINATOR, Role.ADMIN)
def decide(run_id: int) -> Response:
    ids = _int_list("proposal")
    if request.form.get("action") == "reject":
        count = proposals.reject(current_user, ids, utcnow())
        flash(_("%(n)d proposals rejected.", n=count), "info")
    else:
        invited, skipped = proposals.approve(current_user, ids, utcnow())
        flash(_("%(n)d volunteers invited by email.", n=invited), "success")
        if skipped:
            flash(_("%(n)d proposals were not sent: the need is full.", n=skipped), "warning")
    return redirect(url_for("coordination.review", run_id=run_id))


@bp.post("/matchning/<int:run_id>/byt/<int:assignment_id>")
@role_required(Role.COORDINATOR, Role.ADMIN)
def swap(run_id: int, assignment_id: int) -> Response:
    volunteer_id = form_id(request.form.get("volunteer_id")) or 0
    if proposals.swap(current_user, assignment_id, volunteer_id, utcnow()) is None:
        abort(404)
    flash(_("The proposal now has another volunteer."), "success")
    return redirect(url_for("coordination.review", run_id=run_id))


# The volunteers.


@bp.get("/frivillige")
@role_required(Role.COORDINATOR, Role.ADMIN)
def volunteers() -> str:
    form = VolunteerFilterForm(request.args)
    form.fill_choices(current_user.locale)
    form.validate()
    page = page_number()
    result = staff.volunteer_list(current_user, form.to_filter(), local_today(utcnow()), page)
    return render_template("coordination/volunteers.html", form=form, result=result)


@bp.route("/frivillige/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def volunteer_detail(user_id: int) -> str | Response:
    form = CertificateForm()
    today = local_today(utcnow())
    if form.validate_on_submit():
        try:
            staff.record_child_certificate(
                current_user,
                user_id,
                checked_on=form.checked_on.data,
                valid_until=form.valid_until.data,
                today=today,
            )
        except staff.CertificateDatesInvalid:
            form.checked_on.errors.append(_("The check cannot be in the future."))
        else:
            flash(_("The child certificate check is recorded."), "success")
            return redirect(url_for("coordination.volunteer_detail", user_id=user_id))
    record = staff.volunteer_page(current_user, user_id, utcnow())
    return render_template(
        "coordination/volunteers_detail.html",
        profile=record.profile,
        record=record,
        form=form,
        today=today,
        invitation_form=InvitationForm(formdata=None),
        on_behalf=managed.done_on_behalf(user_id),
    )


@bp.get("/frivillige/<int:user_id>/skema.pdf")
@role_required(Role.COORDINATOR, Role.ADMIN)
def volunteer_schedule_pdf(user_id: int) -> Response:
    """A volunteer's coming visits on paper, to hand out or post to someone without email
    (an audited view of the volunteer; another organisation's volunteer is 404)."""
    profile = staff.view_volunteer(current_user, user_id)
    data = printing.volunteer_schedule(profile.user, utcnow())
    return printing.pdf_response(data, "besoeg.pdf")


# Approval before the first visit.

APPROVAL_ERRORS = {
    "talk_missing": _l("Write the date of your first talk with the volunteer."),
    "talk_in_future": _l("The talk cannot be in the future."),
    "reason_missing": _l("Write a short reason. The volunteer is told."),
    # bookings.Refused codes, said to the coordinator
    "full": _l("The activity is full."),
    "finished": _l("The activity has no dates ahead any more."),
    "clash": _l("The volunteer now has another activity at the same time."),
    "over_capacity": _l("The volunteer already has as many activities a week as they want."),
    "email_unconfirmed": _l("The volunteer has not confirmed their email address yet."),
}


class ApprovalForm(SamskabForm):
    talked_on = DateField(_l("Date of the first talk"), validators=[Optional()])
    reason = TextAreaField(
        _l("Reason (the volunteer is told)"),
        validators=[Optional(), Length(max=approvals.REASON_MAX)],
    )


@bp.get("/godkendelser")
@role_required(Role.COORDINATOR, Role.ADMIN)
def approvals_queue() -> str:
    return render_template(
        "coordination/approvals.html",
        pending=approvals.queue(current_user),
        form=ApprovalForm(),
        today=local_today(utcnow()),
    )


@bp.post("/godkendelser/<int:assignment_id>/<any(godkend, afvis):answer>")
@role_required(Role.COORDINATOR, Role.ADMIN)
def answer_approval(assignment_id: int, answer: str) -> Response:
    form = ApprovalForm()
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "warning")
        return redirect(url_for("coordination.approvals_queue"))
    try:
        if answer == "godkend":
            done = approvals.approve(current_user, assignment_id, form.talked_on.data, utcnow())
        else:
            done = approvals.decline(current_user, assignment_id, form.reason.data, utcnow())
    except approvals.NotFound:
        abort(404)
    except approvals.BadAnswer as exc:
        flash(str(APPROVAL_ERRORS[exc.code]), "warning")
        return redirect(url_for("coordination.approvals_queue"))
    except bookings.Refused as exc:
        flash(str(APPROVAL_ERRORS[exc.code]), "warning")
        return redirect(url_for("coordination.approvals_queue"))
    name = done.assignment.volunteer.name
    if done.accepted:
        flash(_("%(name)s is approved, and the dates are booked.", name=name), "success")
    else:
        flash(_("%(name)s is told that it will not go ahead this time.", name=name), "info")
    return redirect(url_for("coordination.approvals_queue"))


# Volunteers whose account the organisation keeps (no email, or no wish to use the web).

ON_BEHALF_REFUSED = {
    "not_volunteer": _l("Only volunteers can be signed up."),
    "email_unconfirmed": _l("The volunteer has not confirmed their email address yet."),
    "not_open": _l("This activity is not taking new volunteers."),
    "paused": _l("The volunteer has paused their volunteering."),
    "too_far": _l("It is further away than the volunteer wants to travel."),
    "not_free": _l("The volunteer is not free at this time. Record their free times first."),
    "certificate_missing": _l(
        "It requires a valid child certificate (børneattest). Record the check first."
    ),
    "language": _l("It requires a language the volunteer has not listed."),
    "finished": _l("The activity has no dates ahead any more."),
    "clash": _l("It is at the same time as another activity of the volunteer."),
    "over_capacity": _l("The volunteer already has as many activities a week as they want."),
    "full": _l("The activity is full."),
}


def _managed_or_back(user_id: int) -> Any:
    """The managed volunteer, or a redirect to their page saying they manage themselves."""
    try:
        return managed.managed_volunteer(current_user, user_id)
    except managed.NotManaged:
        flash(_("The volunteer uses their own account, so they do this themselves."), "info")
        return redirect(url_for("coordination.volunteer_detail", user_id=user_id))


@bp.route("/frivillige/ny", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def create_managed_volunteer() -> str | Response:
    """A volunteer without email (or without wish to use the web), kept by the organisation."""
    form = ManagedVolunteerForm()
    form.organisation_id.choices = [
        SelectChoice(o.id, o.name) for o in manage.manageable_organisations(current_user)
    ]
    if form.validate_on_submit():
        try:
            user = managed.create_managed_volunteer(
                current_user,
                organisation_id=form.organisation_id.data,
                name=form.name.data,
                postcode=form.postcode.data,
                phone=form.phone.data,
                email=form.email.data,
            )
        except managed.NotYourOrganisation:
            form.organisation_id.errors.append(_("Choose one of your organisations."))
        except UnknownPostcode:
            form.postcode.errors.append(_("We do not know that postcode. Check the number."))
        except managed.PhoneTaken:
            form.phone.errors.append(
                _("Another account has this phone number. Find the volunteer in the list.")
            )
        except EmailTaken:
            form.email.errors.append(
                _("Another account has this email address. Find the volunteer in the list.")
            )
        else:
            flash(
                _(
                    "%(name)s is created. You can now record their free times and sign them up.",
                    name=user.name,
                ),
                "success",
            )
            return redirect(url_for("coordination.volunteer_detail", user_id=user.id))
    return render_template("coordination/managed_new.html", form=form)


@bp.route("/frivillige/<int:user_id>/tider", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def managed_availability(user_id: int) -> str | Response:
    """The free times of a volunteer whose account the organisation keeps."""
    volunteer = _managed_or_back(user_id)
    if isinstance(volunteer, Response):
        return volunteer
    if request.method == "POST":
        try:
            slots = volunteer_services.parse_slots(request.form.getlist("slot"))
        except ValueError:
            flash(_("Something in the form was wrong. Please try again."), "error")
            return redirect(url_for("coordination.managed_availability", user_id=user_id))
        managed.save_availability_for(current_user, user_id, slots)
        flash(_("%(name)s's times are saved.", name=volunteer.name), "success")
        return redirect(url_for("coordination.volunteer_detail", user_id=user_id))
    profile = volunteer.profile
    return render_template(
        "coordination/managed_availability.html",
        volunteer=volunteer,
        profile=profile,
        blocks=[(start, time(start), time(end)) for start, end in volunteer_services.TIME_BLOCKS],
        chosen=volunteer_services.chosen_blocks(profile),
    )


@bp.route("/frivillige/<int:user_id>/tilmeld", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def managed_sign_up(user_id: int) -> str | Response:
    """Sign a volunteer whose account the organisation keeps up for one of its activities."""
    volunteer = _managed_or_back(user_id)
    if isinstance(volunteer, Response):
        return volunteer
    form = SignUpForVolunteerForm()
    form.need_id.choices = [
        SelectChoice(n.id, n.title) for n in managed.needs_to_sign_up_for(current_user, user_id)
    ]
    if form.validate_on_submit():
        try:
            result = managed.sign_up_for(current_user, user_id, form.need_id.data, utcnow())
        except signup.NotEligible as exc:
            for reason in exc.reasons:
                form.need_id.errors.append(str(ON_BEHALF_REFUSED.get(reason, reason)))
        except signup.AlreadySignedUp:
            form.need_id.errors.append(_("The volunteer is already on this activity."))
        else:
            if result.waitlisted:
                message = _(
                    "The activity is full, so %(name)s is on the waiting list as number "
                    "%(position)d.",
                    name=volunteer.name,
                    position=result.position,
                )
            elif result.assignment.state == "pending":
                message = _(
                    "%(name)s is signed up and waits for a first talk with a coordinator.",
                    name=volunteer.name,
                )
            else:
                message = _("%(name)s is signed up.", name=volunteer.name)
            flash(message, "success")
            return redirect(url_for("coordination.volunteer_detail", user_id=user_id))
    return render_template("coordination/managed_sign_up.html", volunteer=volunteer, form=form)


@bp.post("/frivillige/<int:user_id>/invitation")
@role_required(Role.COORDINATOR, Role.ADMIN)
def send_claim_invitation(user_id: int) -> Response:
    """Invite the owner of a kept account to take it over (a link, by the channel chosen)."""
    volunteer = _managed_or_back(user_id)
    if isinstance(volunteer, Response):
        return volunteer
    form = InvitationForm()
    back = redirect(url_for("coordination.volunteer_detail", user_id=user_id))
    if not form.validate():
        flash(_("Choose how to send the invitation."), "warning")
        return back
    try:
        managed.send_invitation(current_user, user_id, form.channel.data)
    except managed.NoAddress as exc:
        if exc.args and exc.args[0] == "sms":
            message = _(
                "%(name)s has no Danish mobile number to send an SMS to. "
                "Print a letter with a code instead.",
                name=volunteer.name,
            )
        else:
            message = _(
                "%(name)s has no email address. Print a letter with a code instead.",
                name=volunteer.name,
            )
        flash(message, "warning")
    except managed.UnknownChannel:
        flash(_("Choose how to send the invitation."), "warning")
    else:
        flash(
            _("We have sent %(name)s an invitation to take over the account.", name=volunteer.name),
            "success",
        )
    return back


@bp.post("/frivillige/<int:user_id>/aktiveringsbrev.pdf")
@role_required(Role.COORDINATOR, Role.ADMIN)
def claim_letter_pdf(user_id: int) -> Response:
    """A letter with a new one-time code that lets the owner of a kept account take it over
    at /konto/aktiver (a code printed before stops working). Audited."""
    volunteer = _managed_or_back(user_id)
    if isinstance(volunteer, Response):
        return volunteer
    now = utcnow()
    letter = managed.issue_claim_code(current_user, user_id, now)
    data = printing.claim_letter(
        volunteer, letter.code, letter.expires_at, current_user, local_today(now)
    )
    return printing.pdf_response(data, "aktivering.pdf")


# First logins through an identity provider waiting for approval (the volunteers'; staff
# accounts' stay with an administrator).


@bp.get("/login-forbindelser")
@role_required(Role.COORDINATOR, Role.ADMIN)
def link_queue() -> str:
    links, _total = oidc.links_waiting_for(current_user)
    return render_template(
        "coordination/login_links.html",
        links=links,
        form=ConfirmEmailForm(),
        providers=oidc.providers(),
    )


@bp.post("/login-forbindelser/<int:link_id>/<any(godkend, afvis):answer>")
@role_required(Role.COORDINATOR, Role.ADMIN)
def decide_link(link_id: int, answer: str) -> Response:
    link = oidc.waiting_link_for(current_user, link_id)
    if link is None:
        abort(404)
    form = ConfirmEmailForm()
    if not form.validate():
        return redirect(url_for("coordination.link_queue"))
    name = link.user.name
    oidc.decide_link(current_user, link, answer == "godkend", utcnow())
    if answer == "godkend":
        flash(_("The login is approved for %(name)s.", name=name), "success")
    else:
        flash(_("The login is refused."), "info")
    return redirect(url_for("coordination.link_queue"))
