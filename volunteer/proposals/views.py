"""Proposals from the browser: the public list and page (/forslag), writing and editing, "Jeg
er med", following, comments, co-author invitations, and the coordinators' answer
(/forslag/<id>/svar) and queue (/koordinator/forslag)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from volunteer import bookings
from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.catalogue import services as catalogue
from volunteer.centres.services import TooEarly
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.i18n import long_date
from volunteer.needs import manage
from volunteer.needs.forms import NeedForm
from volunteer.proposals import adoption, closeout, pools, services, states, texts
from volunteer.proposals.forms import (
    AnswerForm,
    CloseoutForm,
    CoauthorAnswerForm,
    CoauthorForm,
    CommentForm,
    FollowForm,
    HideForm,
    PoolForm,
    ProposalFilterForm,
    ProposalForm,
    ReportForm,
    SupportForm,
    VisitOutcomeForm,
    VoteForm,
)
from volunteer.proposals.models import Proposal, ProposalState

bp = Blueprint("proposals", __name__)

ERRORS = {
    "required": _l("This is needed."),
    "unknown": _l("Choose from the list."),
    "range": _l("The number is out of range."),
    "end_before_start": _l("The end must be after the start."),
    "nobody_answers": _l(
        "The local area has no council in Samskab yet: choose the organisation that should answer."
    ),
    "not_editable": _l("The proposal has been answered and can no longer be changed."),
    "not_author": _l("Only the proposal's authors can do that."),
    "submitted_already": _l("The proposal has been sent already."),
    "already_author": _l("That person is an author already."),
    "invited_already": _l("That address has been invited already."),
    "invalid": _l("The link is not valid any more. Ask the proposer to invite you again."),
    "closed": _l("The proposal is closed for that."),
    "too_long": _l("Write at most %(max)d characters.", max=services.COMMENT_MAX),
    "forbidden": _l("That status cannot follow the current one."),
    "not_answerer": _l("Only the coordinators who answer the proposal can do that."),
    "reason_required": _l("A decline must give a reason."),
    "not_adopted": _l("Money can only be granted to an adopted proposal."),
    "no_pool": _l("The local area has no fund for that year."),
    "positive": _l("Write an amount above 0 kroner."),
    "granted_already": _l("The proposal has been granted money already."),
    "too_much": _l("That is more than the fund has left."),
    "no_vote": _l("The local area's fund has no vote."),
    "vote_closed": _l("The vote is closed."),
    "not_resident": _l("Only residents of the local area can vote."),
    "voted_already": _l("You have already voted for this proposal."),
    "pool_exists": _l("The local area has a fund for that year already."),
}


def _message(error: services.ProposalError) -> str:
    return str(ERRORS.get(error.code, ERRORS["required"]))


def _show_error(form: Any, error: services.ProposalError) -> None:
    target = getattr(form, error.field, None)
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, _message(error)]
    else:
        flash(_message(error), "error")


@bp.app_template_filter("proposal_state")
def _proposal_state(code: str) -> str:
    return texts.state_label(code)


@bp.app_template_filter("kroner")
def _kroner(amount_ore: int) -> str:
    return texts.kroner(amount_ore)


@bp.app_template_filter("proposal_field")
def _proposal_field(name: str) -> str:
    return texts.field_label(name)


@bp.app_template_global("proposal_value")
def _proposal_value(name: str, value: Any) -> str:
    return texts.history_value(name, value)


@bp.app_template_filter("proposal_event")
def _proposal_event(event: Any) -> str:
    return texts.event_text(event)


def _choices(form: ProposalForm) -> None:
    form.local_area_id.choices = [SelectChoice(0, _("Chosen from the postcode"))] + [
        SelectChoice(a.id, a.name) for a in catalogue.local_areas()
    ]
    form.organisation_id.choices = [SelectChoice(0, _("The local area's council"))] + [
        SelectChoice(o.id, o.name) for o in catalogue.organisations()
    ]


def _amount_ore(value: Decimal | None) -> int:
    try:
        return int((value or Decimal(0)) * 100)
    except (InvalidOperation, ValueError, OverflowError):
        return -1


def _data(form: ProposalForm) -> services.ProposalData:
    return services.ProposalData(
        title=form.title.data or "",
        what=form.what.data or "",
        for_whom=form.for_whom.data or "",
        postcode=form.postcode.data or "",
        local_area_id=form.local_area_id.data or 0,
        organisation_id=form.organisation_id.data or 0,
        schedule=form.schedule.data or "weekly",
        weekday=form.weekday.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        first_date=form.first_date.data,
        helpers_wanted=form.helpers_wanted.data or 0,
        helper_roles=form.helper_roles.data or "",
        ask_room=bool(form.ask_room.data),
        ask_materials=form.ask_materials.data or "",
        amount_ore=_amount_ore(form.amount.data),
    )


def _fill(form: ProposalForm, proposal: Proposal) -> None:
    for name in services.FIELDS:
        if name == "amount_ore":
            form.amount.data = Decimal(proposal.amount_ore) / 100
        elif name in ("local_area_id", "organisation_id"):
            getattr(form, name).data = getattr(proposal, name) or 0
        else:
            getattr(form, name).data = getattr(proposal, name)


@bp.get("/forslag")
def index() -> str:
    """Every proposal that is not a draft (and the viewer's own drafts)."""
    form = ProposalFilterForm(request.args)
    form.omraade.choices = [SelectChoice(0, _("All local areas"))] + [
        SelectChoice(a.id, a.name) for a in catalogue.local_areas()
    ]
    form.status.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(code, label) for code, label in texts.STATES.items() if code != "draft"
    ]
    area, state = 0, ""
    if form.validate():
        area, state = form.omraade.data or 0, form.status.data or ""
    proposals = services.public_list(current_user, local_area_id=area, state=state)
    return render_template("proposals/index.html", form=form, proposals=proposals)


@bp.route("/forslag/nyt", methods=["GET", "POST"])
@login_required
def create() -> str | BaseResponse:
    """Write a proposal; it is a draft until an author sends it."""
    form = ProposalForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            proposal = services.create_draft(current_user, _data(form), utcnow())
        except services.ProposalError as error:
            _show_error(form, error)
        else:
            flash(_("Your draft is saved. Only you and your co-authors can see it."), "success")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return render_template("proposals/edit.html", form=form, proposal=None)


def _proposal(proposal_id: int) -> Proposal:
    return services.visible_proposal(current_user, proposal_id)


@bp.get("/forslag/<int:proposal_id>")
def detail(proposal_id: int) -> str:
    proposal = _proposal(proposal_id)
    now = utcnow()
    support = services.support_of(current_user, proposal)
    support_form = SupportForm(formdata=None, kind=support.kind if support else "helper")
    answering = states.may_answer(current_user, proposal)
    return render_template(
        "proposals/detail.html",
        proposal=proposal,
        support=support,
        support_form=support_form,
        counts=services.support_counts(proposal),
        following=services.is_following(current_user, proposal),
        comments=services.comments(proposal),
        comment_form=CommentForm(formdata=None),
        report_form=ReportForm(formdata=None),
        hide_form=HideForm(formdata=None),
        coauthor_form=CoauthorForm(formdata=None),
        revisions=services.revisions(proposal),
        answerers=services.answerers(proposal),
        is_author=states.is_author(current_user, proposal),
        may_edit=services.may_edit(current_user, proposal),
        answering=answering,
        leading=bool(adoption.lead_needs(current_user, proposal)),
        overdue=states.is_overdue(proposal, now),
        today=local_today(now),
        open_for_support=proposal.state in services.OPEN_FOR_SUPPORT,
        fund=_fund(proposal, now),
        vote_form=VoteForm(formdata=None),
    )


def _fund(proposal: Proposal, now: Any) -> dict[str, Any] | None:
    """The local area fund the proposal draws on, its grant and vote, as the page shows it."""
    pool = pools.pool_for(proposal, now)
    if pool is None:
        return None
    return {
        "pool": pool,
        "left": pools.left_ore(pool),
        "grant": pools.grant_of(proposal),
        "votes": pools.votes_for(proposal),
        "voting_open": pools.voting_open(pool, now)
        and proposal.state in services.OPEN_FOR_SUPPORT - {ProposalState.ADOPTED},
        "resident": pools.is_resident(current_user, pool),
        "voted": pools.has_voted(current_user, pool, proposal),
    }


@bp.route("/forslag/<int:proposal_id>/rediger", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int) -> str | BaseResponse:
    proposal = _proposal(proposal_id)
    if not states.is_author(current_user, proposal):
        abort(403)
    form = ProposalForm()
    _choices(form)
    if request.method == "GET":
        _fill(form, proposal)
    if not services.may_edit(current_user, proposal):
        flash(_message(services.ProposalError("proposal", "not_editable")), "error")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    if form.validate_on_submit():
        try:
            changed = services.update_proposal(current_user, proposal, _data(form), utcnow())
        except services.ProposalError as error:
            _show_error(form, error)
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    return render_template("proposals/edit.html", form=form, proposal=proposal)


def _back(proposal_id: int) -> BaseResponse:
    return redirect(url_for("proposals.detail", proposal_id=proposal_id))


@bp.post("/forslag/<int:proposal_id>/indsend")
@login_required
def submit(proposal_id: int) -> BaseResponse:
    proposal = _proposal(proposal_id)
    try:
        services.submit(current_user, proposal, utcnow())
    except services.ProposalError as error:
        flash(_message(error), "error")
    else:
        flash(
            _(
                "Your proposal is sent. You will have an answer by %(date)s.",
                date=_long_date(proposal.answer_deadline),
            ),
            "success",
        )
    return _back(proposal.id)


def _long_date(value: Any) -> str:
    return long_date(value) if value else ""


@bp.post("/forslag/<int:proposal_id>/medforfattere")
@login_required
def invite(proposal_id: int) -> BaseResponse:
    proposal = _proposal(proposal_id)
    if not states.is_author(current_user, proposal):
        abort(403)
    form = CoauthorForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return _back(proposal.id)
    try:
        services.invite_coauthor(current_user, proposal, form.email.data, utcnow())
    except services.ProposalError as error:
        flash(_message(error), "error")
    else:
        flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
    return _back(proposal.id)


@bp.route("/forslag/medforfatter/<token>", methods=["GET", "POST"])
@login_required
def coauthor(token: str) -> str | BaseResponse:
    """The page a co-author's invitation links to: accept or decline."""
    try:
        author = services.read_coauthor_token(token)
    except services.ProposalError as error:
        flash(_message(error), "error")
        return redirect(url_for("proposals.index"))
    form = CoauthorAnswerForm()
    if form.validate_on_submit():
        accept = form.answer.data == "yes"
        try:
            services.answer_coauthor(current_user, token, accept, utcnow())
        except services.ProposalError as error:
            flash(_message(error), "error")
            return redirect(url_for("proposals.index"))
        if accept:
            flash(_("You are now a co-author of the proposal."), "success")
            return _back(author.proposal_id)
        flash(_("You have declined the invitation."), "success")
        return redirect(url_for("proposals.index"))
    return render_template("proposals/coauthor.html", author=author, form=form)


@bp.post("/forslag/<int:proposal_id>/med")
@login_required
def support(proposal_id: int) -> BaseResponse:
    """ "Jeg er med" as a helper or participant, or not after all."""
    proposal = _proposal(proposal_id)
    form = SupportForm()
    if not form.validate_on_submit():
        flash(_("Choose from the list."), "error")
        return _back(proposal.id)
    try:
        services.set_support(current_user, proposal, form.kind.data or "", utcnow())
    except services.ProposalError as error:
        flash(_message(error), "error")
    else:
        flash(
            _("Thank you – you are in. You will hear when something happens.")
            if form.kind.data
            else _("You are no longer in."),
            "success",
        )
    return _back(proposal.id)


@bp.post("/forslag/<int:proposal_id>/foelg")
@login_required
def follow(proposal_id: int) -> BaseResponse:
    proposal = _proposal(proposal_id)
    form = FollowForm()
    if form.validate_on_submit():
        try:
            services.set_following(current_user, proposal, form.follow.data == "1", utcnow())
        except services.ProposalError as error:
            flash(_message(error), "error")
        else:
            flash(
                _("You follow the proposal.")
                if form.follow.data == "1"
                else _("You no longer follow the proposal."),
                "success",
            )
    return _back(proposal.id)


@bp.post("/forslag/<int:proposal_id>/kommentarer")
@login_required
def comment(proposal_id: int) -> str | BaseResponse:
    proposal = _proposal(proposal_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.add_comment(current_user, proposal, form.body.data, utcnow())
        except services.ProposalError as error:
            flash(_message(error), "error")
        else:
            flash(_("Your comment is published."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return _back(proposal.id)


@bp.post("/forslag/kommentarer/<int:comment_id>/anmeld")
@login_required
def report(comment_id: int) -> BaseResponse:
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("Write at most %(max)d characters.", max=1000), "error")
        comment = services.comment_for(comment_id, current_user)
        return _back(comment.proposal_id)
    comment = services.report_comment(current_user, comment_id, form.reason.data, utcnow())
    flash(_("Thank you. A coordinator will look at the comment."), "success")
    return _back(comment.proposal_id)


@bp.post("/forslag/kommentarer/<int:comment_id>/skjul")
@role_required(Role.COORDINATOR, Role.ADMIN)
def hide(comment_id: int) -> BaseResponse:
    comment = services.comment_for(comment_id, current_user)
    if not states.may_answer(
        current_user, services.visible_proposal(current_user, comment.proposal_id)
    ):
        abort(403)
    form = HideForm()
    if not form.validate_on_submit():
        flash(_("Write a short reason."), "error")
        return _back(comment.proposal_id)
    try:
        services.hide_comment(current_user, comment_id, form.reason.data, utcnow())
    except services.ProposalError as error:
        if error.code == "not_answerer":
            abort(403)
        flash(_message(error), "error")
    else:
        flash(_("The comment is hidden."), "success")
    return _back(comment.proposal_id)


def _answer_choices(proposal: Proposal) -> list[SelectChoice]:
    return [
        SelectChoice(str(state), texts.state_label(state))
        for state in ProposalState
        if state in states.TRANSITIONS[ProposalState(proposal.state)]
    ]


@bp.route("/forslag/<int:proposal_id>/svar", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def answer(proposal_id: int) -> str | BaseResponse:
    """The official answer: a new status with a public text (a decline must give a reason)."""
    proposal = _proposal(proposal_id)
    if not states.may_answer(current_user, proposal):
        abort(403)
    form = AnswerForm()
    form.state.choices = _answer_choices(proposal)
    if form.validate_on_submit():
        try:
            services.answer(
                current_user,
                proposal,
                form.state.data,
                form.text.data or "",
                utcnow(),
                grant_ore=_amount_ore(form.grant.data),
            )
        except services.ProposalError as error:
            _show_error(form, error)
        else:
            flash(_("The answer is published."), "success")
            return _back(proposal.id)
    now = utcnow()
    return render_template(
        "proposals/answer.html",
        proposal=proposal,
        form=form,
        overdue=states.is_overdue(proposal, now),
        fund=_fund(proposal, now),
    )


@bp.post("/forslag/<int:proposal_id>/stem")
@login_required
def vote(proposal_id: int) -> BaseResponse:
    """A resident approves the proposal in the local area fund's vote."""
    proposal = _proposal(proposal_id)
    form = VoteForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Try again."), "error")
        return _back(proposal.id)
    try:
        pools.vote(current_user, proposal, utcnow())
    except pools.PoolError as error:
        flash(str(ERRORS.get(error.code, ERRORS["required"])), "error")
    else:
        flash(_("Thank you for your vote."), "success")
    return _back(proposal.id)


@bp.get("/puljer")
def pools_index() -> str:
    """Every local area fund: its amount, what it granted and what is left."""
    return render_template("proposals/pools.html", summaries=pools.summaries())


@bp.route("/puljer/ny", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_pool() -> str | BaseResponse:
    """A new local area fund: area, year, amount, and whether residents vote first."""
    form = PoolForm()
    form.local_area_id.choices = [SelectChoice(a.id, a.name) for a in catalogue.local_areas()]
    if request.method == "GET":
        form.year.data = local_today(utcnow()).year
    if form.validate_on_submit():
        try:
            pool = pools.create_pool(
                current_user,
                form.local_area_id.data,
                form.year.data,
                _amount_ore(form.amount.data),
                bool(form.voting.data),
                form.voting_closes_on.data,
            )
        except pools.PoolError as error:
            target = getattr(form, error.field, form.year)
            target.errors = [*target.errors, str(ERRORS.get(error.code, ERRORS["range"]))]
        else:
            flash(_("The fund is created."), "success")
            return redirect(url_for("proposals.pool_detail", pool_id=pool.id))
    return render_template("proposals/pool_edit.html", form=form)


@bp.get("/puljer/<int:pool_id>")
def pool_detail(pool_id: int) -> str:
    """One fund: what it paid for, what is left, and its vote's public result."""
    pool = pools.get_pool(pool_id)
    return render_template(
        "proposals/pool.html",
        summary=pools.summary(pool),
        results=pools.vote_results(pool),
        voting_open=pools.voting_open(pool, utcnow()),
    )


@bp.get("/koordinator/forslag")
@role_required(Role.COORDINATOR, Role.ADMIN)
def queue() -> str:
    """The proposals the coordinator answers, overdue first, and reported comments."""
    now = utcnow()
    proposals = services.to_answer(current_user, now)
    return render_template(
        "proposals/queue.html",
        proposals=proposals,
        reported=services.reported_comments(current_user),
        overdue={p.id for p in proposals if states.is_overdue(p, now)},
        today=local_today(now),
    )


# Adoption (part 4): the adopted proposal becomes needs; the proposer is their tovholder.


@bp.route("/forslag/<int:proposal_id>/opgave", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def adopt(proposal_id: int) -> str | BaseResponse:
    """A need made from the adopted proposal, filled in from it; the helpers who said "Jeg er
    med" are invited first when it is opened."""
    from volunteer.needs.views import NEED_ERRORS, _data, _need_form

    proposal = _proposal(proposal_id)
    if not states.may_answer(current_user, proposal):
        abort(403)
    if proposal.state != ProposalState.ADOPTED:
        flash(_("Adopt the proposal first; then it can become a need."), "error")
        return _back(proposal.id)
    now = utcnow()
    if request.method == "GET":
        prefill = adoption.need_prefill(proposal, current_user, local_today(now))
        form = _need_form(NeedForm(data=prefill), current_user)
        form.contact_id.data = current_user.id
    else:
        form = _need_form(NeedForm(), current_user)
    if form.validate_on_submit():
        try:
            made = adoption.adopt_as_need(
                current_user, proposal, _data(form), now, open_now="aaben" in request.form
            )
        except manage.NeedError as exc:
            getattr(form, exc.field).errors.append(str(NEED_ERRORS[exc.code]))
        else:
            flash(
                ngettext(
                    "The need is saved and the proposer is its contact person. %(num)d helper "
                    "who said they were in is invited.",
                    "The need is saved and the proposer is its contact person. %(num)d helpers "
                    "who said they were in are invited.",
                    made.invited,
                ),
                "success",
            )
            return redirect(url_for("needs.people", need_id=made.need.id))
    return render_template("needs/edit.html", form=form, need=None, proposal=proposal)


@bp.get("/forslag/<int:proposal_id>/aktivitet")
@login_required
def activity(proposal_id: int) -> str:
    """The tovholder's page: the activity's helpers and its visits to confirm."""
    proposal = _proposal(proposal_id)
    now = utcnow()
    view = adoption.lead_view(current_user, proposal, now)
    return render_template(
        "proposals/activity.html",
        proposal=proposal,
        view=view,
        now=now,
        closeout_form=CloseoutForm(formdata=None),
        closeouts={need.id: closeout.reports_of(need.id) for need in view.needs},
    )


@bp.post("/forslag/aktivitet/<int:need_id>/afslut")
@login_required
def record_closeout(need_id: int) -> BaseResponse:
    """The tovholder records what happened: participants, sessions, a short note."""
    need, proposal_id = closeout.co_created_need(need_id)
    if not closeout.may_report(current_user, need):
        abort(403)
    form = CloseoutForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("proposals.activity", proposal_id=proposal_id))
    closeout.record(
        current_user,
        need.id,
        closeout.CloseoutData(
            participants=form.participants.data or 0,
            sessions=form.sessions.data or 0,
            note=form.note.data or "",
        ),
        utcnow(),
    )
    flash(_("Thank you. What happened is recorded."), "success")
    return redirect(url_for("proposals.activity", proposal_id=proposal_id))


@bp.post("/forslag/aktivitet/besoeg/<int:visit_id>")
@login_required
def confirm_visit(visit_id: int) -> BaseResponse:
    """The tovholder records that a helper came (or did not)."""
    proposal_id = adoption.proposal_of(visit_id)
    form = VisitOutcomeForm()
    outcome = (form.outcome.data or "") if form.validate_on_submit() else ""
    try:
        adoption.lead_record_visit(current_user, visit_id, outcome, utcnow())
    except TooEarly:
        flash(_("The visit has not started yet."), "error")
    except bookings.ForbiddenVisitMove:
        flash(_("That visit cannot be changed any more."), "error")
    except adoption.BadOutcome:
        flash(_("Choose from the list."), "error")
    else:
        flash(_("The visit is recorded."), "success")
    if proposal_id is None:
        return redirect(url_for("proposals.index"))
    return redirect(url_for("proposals.activity", proposal_id=proposal_id))
