from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from volunteer import bookings, geo
from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.caching import anonymous_page_cache
from volunteer.catalogue import services as catalogue
from volunteer.coordination.models import AssignmentState
from volunteer.db import utcnow
from volunteer.extensions import limiter
from volunteer.i18n import select_locale
from volunteer.needs import contact, manage, services, signup
from volunteer.needs.eligibility import reasons_not_eligible
from volunteer.needs.forms import NeedForm, SearchForm
from volunteer.needs.models import NeedStatus
from volunteer.needs.place import centre_line
from volunteer.urls import page_number
from volunteer.volunteers import staff

bp = Blueprint("needs", __name__)

PER_PAGE = 20

# Plain explanations of why a volunteer cannot sign up (eligibility codes → text).
NOT_ELIGIBLE = {
    "not_volunteer": _l("Only volunteers can sign up. Log in with a volunteer account."),
    "email_unconfirmed": _l(
        "Confirm your email address first: open the link we have emailed you. Then you can sign up."
    ),
    "not_open": _l("This activity is not taking new volunteers."),
    "paused": _l("You have paused your volunteering. Change it on My page."),
    "too_far": _l("It is further away than you want to travel. You can change that on My page."),
    "not_free": _l("You have not said you are free at this time. Update your availability."),
    "certificate_missing": _l(
        "It requires a valid child certificate (børneattest). Ask your coordinator."
    ),
    "under_18": _l(
        "Helpers with children must be 18 or older, and your MitID login says you are not yet."
    ),
    "language": _l("It requires a language you have not listed."),
    "finished": _l("This activity has no dates left."),
    "clash": _l("It is at the same time as another activity you have said yes to."),
    "over_capacity": _l(
        "You already have as many activities a week as you said you want. "
        "You can change that on My page."
    ),
}

# A yes to an activity that needs a first conversation before the first visit.
AWAITING_APPROVAL = _l(
    "Thank you for saying yes! Before your first visit a coordinator will call you for a short "
    "first talk. Until then your place is kept for you."
)

# Why an invitation could not be accepted (``bookings.Refused`` codes → text).
REFUSED = {
    **NOT_ELIGIBLE,
    "full": _l("The activity is full: the place offered to you no longer exists."),
}

# Why "I am interested" sent nothing (``contact.ContactError`` codes → text).
INTEREST_REFUSED = {
    "already": _l("You are already on this activity."),
    "email_unconfirmed": NOT_ELIGIBLE["email_unconfirmed"],
    "eligible": _l("You can sign up for this activity straight away."),
    "closed": NOT_ELIGIBLE["not_open"],
    "no_contact": _l("The activity has no contact person yet. Please try again later."),
}

NEED_ERRORS = {
    "not_yours": _l("You can only post needs for your own organisation."),
    "unknown": _l("Choose one of the options."),
    "in_past": _l("The date has passed. Choose a date from today on."),
    "before_first": _l("The last date cannot be before the first date."),
    "before_start": _l("The end must be after the start."),
    "below_accepted": _l(
        "More volunteers have already said yes than that. Ask one of them to leave first."
    ),
    "clash": _l(
        "A volunteer on this need has another activity at the new time. Talk to them first."
    ),
    "over_capacity": _l(
        "A volunteer on this need would have more activities a week than they want."
    ),
    "no_dates": _l("The need has no dates ahead. Change the date or the times."),
    "not_in_organisation": _l(
        "The contact person must be a coordinator of the need's organisation."
    ),
}


@bp.get("/")
@anonymous_page_cache
def index() -> str:
    form = SearchForm(request.args)
    form.aktivitet.choices = [("", _("All activities"))] + [
        (a.code, a.name(select_locale())) for a in catalogue.activity_types()
    ]
    form.omraade.choices = [(None, _("All areas"))] + [
        (a.id, a.name) for a in catalogue.local_areas()
    ]
    valid = form.validate()
    filters = services.NeedFilters()
    if valid:
        near = geo.lookup(form.postnummer.data) if form.postnummer.data else None
        filters = services.NeedFilters(
            text=form.q.data or "",
            activity=form.aktivitet.data or "",
            local_area_id=form.omraade.data,
            weekday=form.ugedag.data,
            time_of_day=form.tid.data or "",
            near=near,
            km=float(form.km.data if form.km.data is not None else 10),
        )
    result = services.search_open_needs(filters, utcnow(), page_number(), PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "side" and v}
    return render_template("needs/index.html", form=form, result=result, args=args)


@bp.get("/<int:need_id>")
@anonymous_page_cache
def detail(need_id: int) -> str:
    need = services.get_public_need(need_id)
    manager = (
        current_user.is_authenticated and manage.may_manage(current_user, need) if need else False
    )
    if need is None:
        need = manage.managed_need(current_user, need_id) if current_user.is_authenticated else None
        manager = need is not None
    if need is None:
        abort(404)
    now = utcnow()
    card, occurrences = services.card_with_dates(need, now)
    mine = reasons = None
    codes: tuple[str, ...] = ()
    seat = True
    person = contact.contact_of(need)
    if current_user.is_authenticated and current_user.role == Role.VOLUNTEER:
        mine = signup.assignment_of(current_user, need)
        codes = reasons_not_eligible(current_user, need, now)
        reasons = [_reason(code, need, person) for code in codes]
        seat = mine is None or bookings.seat_for(mine)
    return render_template(
        "needs/detail.html",
        card=card,
        occurrences=occurrences,
        mine=mine,
        reasons=reasons,
        manager=manager,
        seat=seat,
        position=signup.waitlist_position(mine) if mine and mine.state == "waitlisted" else None,
        contact=person,
        may_ask=person is not None and contact.may_ask(codes),
        interest_sent=bool(codes) and contact.interest_sent(current_user, need),
    )


def _reason(code: str, need, person) -> str:  # type: ignore[no-untyped-def]
    """Why the volunteer cannot sign up, in words; a missing child certificate names whom to
    ask (with links), not just "your coordinator"."""
    if code == "certificate_missing" and person is not None:
        ask = contact.contact_sentence(need, html=True, person=person)
        # The translation is ours; the sentence escaped the contact's details.
        return Markup(  # noqa: S704
            _("It requires a valid child certificate (børneattest). %(ask)s", ask=ask)
        )
    return str(NOT_ELIGIBLE[code])


def _interest_limit() -> str:
    return current_app.config["INTEREST_RATE_LIMIT"]


@bp.post("/<int:need_id>/interesseret")
@limiter.limit(_interest_limit)
@role_required(Role.VOLUNTEER)
def interest(need_id: int) -> Response:
    """A volunteer who cannot sign up yet tells the need's contact they are interested."""
    need = services.get_public_need(need_id) or abort(404)
    try:
        person, new = contact.express_interest(current_user, need, utcnow(), NOT_ELIGIBLE)
    except contact.ContactError as exc:
        flash(str(INTEREST_REFUSED[exc.code]), "info")
    else:
        if new:
            message = _(
                "Thank you! We have told %(name)s that you are interested. They will contact you.",
                name=person.name,
            )
        else:
            message = _(
                "You have already told %(name)s that you are interested. They will contact you.",
                name=person.name,
            )
        flash(message, "success")
    return redirect(url_for("needs.detail", need_id=need_id))


@bp.post("/<int:need_id>/tilmeld")
@role_required(Role.VOLUNTEER)
def sign_up(need_id: int) -> Response:
    need = services.get_public_need(need_id) or abort(404)
    try:
        result = signup.sign_up(current_user, need_id, utcnow())
    except signup.NotEligible as exc:
        person = contact.contact_of(need)
        for reason in exc.reasons:
            flash(_reason(reason, need, person), "warning")
    except signup.AlreadySignedUp:
        flash(_("You are already signed up for this activity."), "info")
    else:
        if result.waitlisted:
            flash(
                _(
                    "The activity is full, so you are on the waiting list as number "
                    "%(position)d. We will email you if a place becomes free.",
                    position=result.position,
                ),
                "info",
            )
        elif result.assignment.state == AssignmentState.PENDING:
            flash(str(AWAITING_APPROVAL), "success")
        else:
            flash(_("You are signed up. Thank you! Your dates are on My page."), "success")
    return redirect(url_for("needs.detail", need_id=need_id))


@bp.post("/tilbud/<int:assignment_id>/<any(ja, nej):answer>")
@role_required(Role.VOLUNTEER)
def answer_invitation(assignment_id: int, answer: str) -> Response:
    act = signup.accept_invitation if answer == "ja" else signup.decline_invitation
    try:
        assignment = act(current_user, assignment_id, utcnow())
    except signup.InvitationClosed:
        flash(_("The offer is no longer open."), "warning")
        return redirect(url_for("volunteers.home"))
    except bookings.Refused as exc:
        flash(str(REFUSED[exc.code]), "warning")
        return redirect(url_for("volunteers.home"))
    if assignment is None:
        abort(404)
    if answer == "ja" and assignment.state == AssignmentState.PENDING:
        flash(str(AWAITING_APPROVAL), "success")
    elif answer == "ja":
        flash(_("You have accepted. Thank you! Your dates are on My page."), "success")
    else:
        flash(_("You have said no thanks. The place goes to the next volunteer."), "info")
    return redirect(url_for("needs.detail", need_id=assignment.need_id))


# Coordinators


def _need_form(form: NeedForm, user) -> NeedForm:  # type: ignore[no-untyped-def]
    locale = select_locale()
    organisations = manage.manageable_organisations(user)
    form.organisation_id.choices = [(o.id, o.name) for o in organisations]
    form.contact_id.choices = [
        (person.id, person.name)
        for person in contact.possible_contacts([o.id for o in organisations])
    ]
    form.activity_type_id.choices = [(a.id, a.name(locale)) for a in catalogue.activity_types()]
    form.centre_id.choices = [(0, _("Another place (write the postcode)"))] + [
        (c.id, centre_line(c)) for c in catalogue.centres()
    ]
    form.local_area_id.choices = [(0, _("Not given"))] + [
        (a.id, a.name) for a in catalogue.local_areas()
    ]
    return form


def _data(form: NeedForm) -> manage.NeedData:
    return manage.NeedData(
        organisation_id=form.organisation_id.data,
        activity_type_id=form.activity_type_id.data,
        title=form.title.data,
        description=form.description.data or "",
        centre_id=form.centre_id.data or None,
        postcode=form.postcode.data or None,
        address=form.address.data or None,
        local_area_id=form.local_area_id.data or None,
        schedule=form.schedule.data,
        weekday=form.weekday.data,
        first_date=form.first_date.data,
        last_date=form.last_date.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        skip_holidays=form.skip_holidays.data,
        slots=form.slots.data,
        requires_child_certificate=form.requires_child_certificate.data,
        languages=form.languages.data or [],
        contact_id=form.contact_id.data or None,
    )


@bp.route("/ny", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def create() -> str | Response:
    form = _need_form(NeedForm(), current_user)
    if request.method == "GET":
        form.contact_id.data = current_user.id
    if form.validate_on_submit():
        try:
            need = manage.create_need(
                current_user, _data(form), utcnow(), open_now="aaben" in request.form
            )
        except manage.NeedError as exc:
            getattr(form, exc.field).errors.append(str(NEED_ERRORS[exc.code]))
        else:
            flash(_("The need is saved."), "success")
            return redirect(url_for("needs.people", need_id=need.id))
    return render_template("needs/edit.html", form=form, need=None)


@bp.route("/<int:need_id>/rediger", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def edit(need_id: int) -> str | Response:
    need = manage.managed_need(current_user, need_id) or abort(404)
    form = _need_form(NeedForm(obj=need if request.method == "GET" else None), current_user)
    if request.method == "GET":
        form.centre_id.data = need.centre_id or 0
        form.local_area_id.data = need.local_area_id or 0
        form.postcode.data = "" if need.centre_id else need.postcode
    if form.validate_on_submit():
        try:
            manage.update_need(current_user, need, _data(form), utcnow())
        except manage.NeedError as exc:
            getattr(form, exc.field).errors.append(str(NEED_ERRORS[exc.code]))
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("needs.people", need_id=need.id))
    return render_template("needs/edit.html", form=form, need=need)


@bp.post("/<int:need_id>/<any(aabn, luk, kopier):action>")
@role_required(Role.COORDINATOR, Role.ADMIN)
def change_status(need_id: int, action: str) -> Response:
    need = manage.managed_need(current_user, need_id) or abort(404)
    now = utcnow()
    if action == "aabn":
        try:
            manage.open_need(current_user, need, now)
        except manage.NeedError as exc:
            flash(str(NEED_ERRORS[exc.code]), "warning")
        else:
            flash(_("The need is open for volunteers."), "success")
    elif action == "luk":
        cancelled = manage.close_need(current_user, need, now)
        flash(_("The need is closed. %(n)d planned visits were cancelled.", n=cancelled), "info")
    else:
        copy = manage.copy_need(current_user, need)
        flash(_("A copy is saved as a draft. Adjust it and open it."), "success")
        return redirect(url_for("needs.edit", need_id=copy.id))
    return redirect(url_for("needs.people", need_id=need.id))


@bp.get("/<int:need_id>/frivillige")
@role_required(Role.COORDINATOR, Role.ADMIN)
def people(need_id: int) -> str:
    need = manage.managed_need(current_user, need_id) or abort(404)
    people = manage.people_for(need)
    everyone = people.accepted + people.invited + people.waitlist + people.proposed
    return render_template(
        "needs/people.html",
        need=need,
        people=people,
        statuses=NeedStatus,
        linkable=staff.visible_user_ids(current_user, (a.volunteer_id for a in everyone)),
    )
