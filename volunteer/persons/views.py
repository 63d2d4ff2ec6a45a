"""The people we help, from the browser: the public referral form (/henvisning), and the
coordinators' persons (/koordinator/borgere) and referral queue (/koordinator/henvisninger)."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from volunteer import printing
from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.catalogue import services as catalogue
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.extensions import limiter
from volunteer.i18n import select_locale
from volunteer.needs import manage
from volunteer.pairs import services as pairs
from volunteer.persons import data_page, letters, referrals, services
from volunteer.persons.forms import (
    CPR_MESSAGE,
    AcceptReferralForm,
    DeclineForm,
    FriendLetterForm,
    PersonFilterForm,
    PersonForm,
    ReferralForm,
)
from volunteer.persons.models import Person, PersonState, Referral, ReferrerRelation
from volunteer.volunteers.services import TIME_BLOCKS, parse_slots

bp = Blueprint("persons", __name__)
STAFF = (Role.COORDINATOR, Role.ADMIN)

ERRORS = {
    "cpr": CPR_MESSAGE,
    "required": _l("This is needed."),
    "unknown": _l("Choose from the list."),
    "not_yours": _l("Choose one of your organisations."),
    "in_future": _l("The date cannot be in the future."),
}


def _referral_limit() -> str:
    return current_app.config["REFERRAL_RATE_LIMIT"]


def _show_error(form: Any, error: services.PersonError) -> None:
    target = getattr(form, error.field, None)
    message = str(ERRORS.get(error.code, ERRORS["required"]))
    if target is not None:
        target.errors = [*target.errors, message]
    else:
        flash(message, "error")


# The public referral.


@bp.route("/henvisning", methods=["GET", "POST"])
@limiter.limit(_referral_limit, methods=["POST"])
def refer() -> str | BaseResponse:
    """Ask for a spiseven or besøgsven for someone (or oneself), without an account."""
    form = ReferralForm()
    locale = select_locale()
    form.activity_codes.choices = [
        SelectChoice(a.code, a.name(locale)) for a in catalogue.person_activity_types()
    ]
    if form.validate_on_submit():
        data = referrals.ReferralData(
            referrer_name=form.referrer_name.data,
            referrer_relation=form.referrer_relation.data,
            referrer_phone=form.referrer_phone.data,
            referrer_email=form.referrer_email.data,
            person_name=form.person_name.data,
            person_postcode=form.person_postcode.data,
            person_address=form.person_address.data,
            person_phone=form.person_phone.data,
            activity_codes=list(form.activity_codes.data or []),
            message=form.message.data or "",
            consent=bool(form.consent.data),
        )
        try:
            referral = referrals.submit_referral(data, utcnow(), locale)
        except services.PersonError as error:
            _show_error(form, error)
        else:
            session["referral_receipt"] = {
                "person": referral.person_name,
                "email": referral.referrer_email or "",
                "organisation": referral.organisation.name if referral.organisation else "",
            }
            return redirect(url_for("persons.referral_received"))
    return render_template("persons/refer.html", form=form)


@bp.get("/henvisning/tak")
def referral_received() -> str | BaseResponse:
    """The receipt page, shown once after sending (what is in the session, nothing by id)."""
    receipt = session.get("referral_receipt")
    if not receipt:
        return redirect(url_for("persons.refer"))
    return render_template("persons/referral_received.html", receipt=receipt)


# The coordinators' persons.


def _person_form(
    person: Person | None = None, referral: Referral | None = None, *, fresh: bool = False
) -> PersonForm:
    """The person form with its choices (with a referral: the acceptance form); filled from the
    person or the referral on a GET (or when ``fresh``: not read from the request)."""
    kind = AcceptReferralForm if referral is not None else PersonForm
    form = kind(formdata=None) if fresh else kind(obj=person)
    if isinstance(form, AcceptReferralForm):
        form.fill_weekdays()
    locale = select_locale()
    form.organisation_id.choices = [
        SelectChoice(o.id, o.name) for o in manage.manageable_organisations(current_user)
    ]
    form.local_area_id.choices = [SelectChoice(0, _("Chosen from the postcode"))] + [
        SelectChoice(a.id, a.name) for a in catalogue.local_areas()
    ]
    form.activity_type_ids.choices = [
        SelectChoice(a.id, a.name(locale)) for a in catalogue.activity_types()
    ]
    if request.method == "GET" or fresh:
        if person is not None:
            form.activity_type_ids.data = [a.id for a in person.activity_types]
            form.local_area_id.data = person.local_area_id or 0
        else:
            form.languages.data = ["da"]
            form.consent_given_on.data = local_today(utcnow())
        if referral is not None:
            _fill_from_referral(form, referral)
    return form


def _fill_from_referral(form: PersonForm, referral: Referral) -> None:
    codes = set(referral.activity_codes or [])
    form.name.data = referral.person_name
    form.postcode.data = referral.person_postcode
    form.address.data = referral.person_address
    form.phone.data = referral.person_phone
    form.activity_type_ids.data = [a.id for a in catalogue.activity_types() if a.code in codes]
    form.note.data = referral.message
    if referral.organisation_id:
        form.organisation_id.data = referral.organisation_id
    if referral.local_area_id:
        form.local_area_id.data = referral.local_area_id
    if referral.referrer_relation == ReferrerRelation.SELF:
        form.consent_given_by.data = referral.person_name
    else:
        form.contact_name.data = referral.referrer_name
        form.contact_phone.data = referral.referrer_phone
        form.contact_email.data = referral.referrer_email
        form.consent_given_by.data = ""
    form.consent_given_on.data = local_today(referral.created_at)
    if isinstance(form, AcceptReferralForm):
        form.need_weekday.data = -1


def _slots() -> set[tuple[int, int]] | None:
    try:
        return parse_slots(request.form.getlist("slot"))
    except ValueError:
        return None


def _person_data(form: PersonForm, slots: set[tuple[int, int]]) -> services.PersonData:
    return services.PersonData(
        organisation_id=form.organisation_id.data,
        name=form.name.data,
        phone=form.phone.data,
        email=form.email.data,
        postcode=form.postcode.data,
        address=form.address.data,
        local_area_id=form.local_area_id.data or None,
        activity_type_ids=list(form.activity_type_ids.data or []),
        interests=form.interests.data or "",
        languages=list(form.languages.data or []),
        slots=slots,
        volunteer_wish=form.volunteer_wish.data or "",
        wish_gender=form.wish_gender.data or "",
        wish_required=bool(form.wish_required.data),
        contact_name=form.contact_name.data,
        contact_relation=form.contact_relation.data,
        contact_phone=form.contact_phone.data,
        contact_email=form.contact_email.data,
        consent_given_by=form.consent_given_by.data,
        consent_given_on=form.consent_given_on.data,
        consent_method=form.consent_method.data,
        note=form.note.data or "",
    )


def _chosen(person: Person | None) -> set[tuple[int, int]]:
    if request.method == "POST":
        return _slots() or set()
    if person is None:
        return set()
    return {
        (w.weekday, start)
        for w in person.windows
        for start, end in TIME_BLOCKS
        if w.start_time.hour <= start and end <= w.end_time.hour
    }


def _form_page(template: str, form: PersonForm, person: Person | None, **extra: Any) -> str:
    return render_template(
        template,
        form=form,
        person=person,
        blocks=TIME_BLOCKS,
        chosen=_chosen(person),
        **extra,
    )


@bp.get("/koordinator/borgere")
@role_required(*STAFF)
def index() -> str:
    """The organisations' persons, the longest waiting first."""
    form = PersonFilterForm(request.args)
    form.validate()
    rows = services.person_list(
        current_user,
        local_today(utcnow()),
        text="" if form.q.errors else (form.q.data or ""),
        state="" if form.state.errors else (form.state.data or ""),
    )
    return render_template(
        "persons/index.html",
        form=form,
        rows=rows,
        referrals_waiting=referrals.queue_size(current_user),
    )


@bp.route("/koordinator/borgere/ny", methods=["GET", "POST"])
@role_required(*STAFF)
def create() -> str | BaseResponse:
    form = _person_form()
    if form.validate_on_submit():
        slots = _slots()
        if slots is None:
            flash(_("Something in the form was wrong. Please try again."), "error")
        else:
            try:
                person = services.create_person(current_user, _person_data(form, slots), utcnow())
            except services.PersonError as error:
                _show_error(form, error)
            else:
                flash(_("%(name)s is registered and waiting.", name=person.name), "success")
                return redirect(url_for("persons.detail", person_id=person.id))
    return _form_page("persons/edit.html", form, None)


@bp.get("/koordinator/borgere/<int:person_id>")
@role_required(*STAFF)
def detail(person_id: int) -> str:
    person = services.view_person(current_user, person_id)
    letter_form = FriendLetterForm(formdata=None)
    letter_form.fill_choices(letters.friend_choices(current_user, person))
    return render_template(
        "persons/detail.html",
        person=person,
        forloeb=pairs.for_person(person),
        contact_visible=services.can_see_contact(current_user, person),
        waiting_days=services.waiting_days(person, local_today(utcnow())),
        letter_form=letter_form,
    )


@bp.post("/koordinator/borgere/<int:person_id>/brev.pdf")
@role_required(*STAFF)
def friend_letter(person_id: int) -> Response | BaseResponse:
    """A letter to the person about their new visiting friend, as the coordinator agreed it
    (A4 PDF; audited). A form with mistakes goes back to the person's page."""
    person = services.visible_person(current_user, person_id)
    form = FriendLetterForm()
    form.fill_choices(letters.friend_choices(current_user, person))
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "warning")
        return redirect(url_for("persons.detail", person_id=person.id))
    data = letters.friend_letter(
        current_user,
        person.id,
        form.volunteer_id.data,
        weekday=form.weekday.data,
        starts=form.starts.data,
        first_date=form.first_date.data,
        today=local_today(utcnow()),
    )
    return printing.pdf_response(data, "brev.pdf")


@bp.route("/koordinator/borgere/<int:person_id>/rediger", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(person_id: int) -> str | BaseResponse:
    person = services.visible_person(current_user, person_id)
    form = _person_form(person)
    if form.validate_on_submit():
        slots = _slots()
        if slots is None:
            flash(_("Something in the form was wrong. Please try again."), "error")
        else:
            try:
                services.update_person(current_user, person, _person_data(form, slots), utcnow())
            except services.PersonError as error:
                _show_error(form, error)
            else:
                flash(_("The changes are saved."), "success")
                return redirect(url_for("persons.detail", person_id=person.id))
    return _form_page("persons/edit.html", form, person)


@bp.post("/koordinator/borgere/<int:person_id>/status")
@role_required(*STAFF)
def change_state(person_id: int) -> BaseResponse:
    person = services.visible_person(current_user, person_id)
    if request.form.get("state") == PersonState.ENDED:
        services.end_person(current_user, person, utcnow())
        flash(_("The registration is ended."), "success")
    elif request.form.get("state") == PersonState.WAITING:
        services.reopen_person(current_user, person, utcnow())
        flash(_("%(name)s is waiting again.", name=person.name), "success")
    return redirect(url_for("persons.detail", person_id=person.id))


@bp.get("/koordinator/borgere/<int:person_id>/data.json")
@role_required(*STAFF)
def export_json(person_id: int) -> Response:
    data = services.export_person(current_user, services.visible_person(current_user, person_id))
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=samskab-borger-{person_id}.json"
    )
    return response


@bp.get("/koordinator/borgere/<int:person_id>/data")
@role_required(*STAFF)
def export_html(person_id: int) -> str:
    person = services.visible_person(current_user, person_id)
    data = services.export_person(current_user, person)
    return render_template(
        "persons/export.html", person=person, sections=data_page.sections(data, select_locale())
    )


@bp.route("/koordinator/borgere/<int:person_id>/slet", methods=["GET", "POST"])
@role_required(*STAFF)
def erase(person_id: int) -> str | BaseResponse:
    person = services.visible_person(current_user, person_id)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        services.erase_person(current_user, person, utcnow())
        flash(_("The person's personal data are deleted."), "success")
        return redirect(url_for("persons.index"))
    return render_template("persons/erase.html", person=person)


# The referral queue.


@bp.get("/koordinator/henvisninger")
@role_required(*STAFF)
def referral_queue() -> str:
    return render_template(
        "persons/referrals.html",
        referrals=referrals.queue(current_user),
        today=local_today(utcnow()),
    )


@bp.route("/koordinator/henvisninger/<int:referral_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def referral(referral_id: int) -> str | BaseResponse:
    """A referral: register the person from it (the person form, filled in) or decline it."""
    found = referrals.open_referral(current_user, referral_id, audited=request.method == "GET")
    form = _person_form(referral=found)
    if form.validate_on_submit():
        slots = _slots()
        if slots is None:
            flash(_("Something in the form was wrong. Please try again."), "error")
        else:
            assert isinstance(form, AcceptReferralForm)
            weekly = (
                referrals.WeeklyNeed(
                    form.need_weekday.data, form.need_start.data, form.need_end.data
                )
                if form.need_weekday.data is not None and form.need_weekday.data >= 0
                else None
            )
            try:
                person = referrals.accept_referral(
                    current_user, found, _person_data(form, slots), utcnow(), weekly
                )
            except services.PersonError as error:
                _show_error(form, error)
            else:
                flash(_("%(name)s is registered and waiting.", name=person.name), "success")
                if weekly is not None:
                    flash(
                        _("The weekly need is saved as a draft: open it when it is ready."), "info"
                    )
                return redirect(url_for("persons.detail", person_id=person.id))
    return _form_page(
        "persons/referral.html",
        form,
        None,
        referral=found,
        decline_form=DeclineForm(formdata=None),
        today=local_today(utcnow()),
    )


@bp.route("/koordinator/henvisninger/<int:referral_id>/afvis", methods=["POST"])
@role_required(*STAFF)
def decline_referral(referral_id: int) -> str | BaseResponse:
    found = referrals.open_referral(current_user, referral_id, audited=False)
    decline_form = DeclineForm()
    if decline_form.validate_on_submit():
        try:
            referrals.decline_referral(current_user, found, decline_form.reason.data, utcnow())
        except services.PersonError as error:
            _show_error(decline_form, error)
        else:
            flash(
                _("The referral is declined. The referrer is told the reason.")
                if found.referrer_email
                else _("The referral is declined. The referrer gave no email: call them."),
                "success",
            )
            return redirect(url_for("persons.referral_queue"))
    return _form_page(
        "persons/referral.html",
        _person_form(referral=found, fresh=True),
        None,
        referral=found,
        decline_form=decline_form,
        today=local_today(utcnow()),
    )
