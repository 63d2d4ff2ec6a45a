"""The administration pages (administrators only): the overview, the catalogue's organisations,
local areas, centres and activity types, and the staff accounts. The rules are in
``volunteer.admin.services`` and ``volunteer.catalogue.services``; every write is audited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from volunteer.admin import services
from volunteer.admin.forms import (
    CENTRE_KIND_NAMES,
    ORGANISATION_KIND_NAMES,
    STAFF_ROLE_NAMES,
    ActivityTypeForm,
    CentreForm,
    InviteForm,
    LocalAreaForm,
    LoginPolicyForm,
    OrganisationForm,
    StaffForm,
)
from volunteer.auth import oidc, two_factor
from volunteer.auth.decorators import role_required
from volunteer.auth.models import OidcLink, Role
from volunteer.catalogue import services as catalogue
from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.i18n import select_locale
from volunteer.needs.place import centre_line

bp = Blueprint("admin", __name__)

NAME_TAKEN = _l("There is already one with that name. Choose another name.")
UNKNOWN_POSTCODE = _l("We do not know that postcode.")
NOT_ALLOWED = {
    "self": _l("You cannot deactivate your own account."),
    "own_role": _l("You cannot change your own role."),
    "not_pending": _l("The person has already chosen a password."),
    "inactive": _l("The account is deactivated. Reactivate it first."),
    "role": _l("Choose one of the options."),
}


@bp.app_template_filter("organisation_kind")
def organisation_kind(code: str) -> str:
    return str(ORGANISATION_KIND_NAMES.get(code, code))


@bp.app_template_filter("centre_kind")
def centre_kind(code: str) -> str:
    return str(CENTRE_KIND_NAMES.get(code, code))


@bp.app_template_filter("staff_role")
def staff_role(code: str) -> str:
    return str(STAFF_ROLE_NAMES.get(code, code))


def _get(model: type, row_id: int):  # type: ignore[no-untyped-def]
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    return row


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> str:
    return render_template("admin/index.html", overview=services.overview())


# Organisations


@bp.get("/organisationer/")
@role_required(Role.ADMIN)
def organisations() -> str:
    return render_template("admin/organisations.html", rows=catalogue.organisations())


@bp.route("/organisationer/ny", methods=["GET", "POST"], defaults={"org_id": None})
@bp.route("/organisationer/<int:org_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_organisation(org_id: int | None) -> str | Response:
    org = _get(Organisation, org_id) if org_id else None
    form = OrganisationForm(obj=org)
    if form.validate_on_submit():
        data = catalogue.OrganisationData(
            name=form.name.data,
            kind=form.kind.data,
            email=form.email.data or None,
            phone=form.phone.data or None,
        )
        try:
            catalogue.save_organisation(current_user, data, org)
        except catalogue.NameTaken:
            form.name.errors.append(str(NAME_TAKEN))
        else:
            flash(_("The organisation is saved."), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, row=org)


# Local areas


@bp.get("/lokalomraader/")
@role_required(Role.ADMIN)
def local_areas() -> str:
    return render_template("admin/local_areas.html", rows=catalogue.local_areas())


def _organisation_choices(none: str | None = None) -> list[tuple[int, str]]:
    choices = [(o.id, o.name) for o in catalogue.organisations()]
    return [(0, none), *choices] if none else choices


@bp.route("/lokalomraader/ny", methods=["GET", "POST"], defaults={"area_id": None})
@bp.route("/lokalomraader/<int:area_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_local_area(area_id: int | None) -> str | Response:
    area = _get(LocalArea, area_id) if area_id else None
    form = LocalAreaForm(obj=area)
    form.organisation_id.choices = _organisation_choices(_("Not given"))
    if form.validate_on_submit():
        data = catalogue.LocalAreaData(
            name=form.name.data,
            postcode=form.postcode.data or None,
            organisation_id=form.organisation_id.data or None,
        )
        try:
            catalogue.save_local_area(current_user, data, area)
        except catalogue.NameTaken:
            form.name.errors.append(str(NAME_TAKEN))
        except catalogue.UnknownPostcode:
            form.postcode.errors.append(str(UNKNOWN_POSTCODE))
        else:
            flash(_("The local area is saved."), "success")
            return redirect(url_for("admin.local_areas"))
    return render_template("admin/local_area_form.html", form=form, row=area)


# Centres


@bp.get("/centre/")
@role_required(Role.ADMIN)
def centres() -> str:
    return render_template("admin/centres.html", rows=services.overview().centres)


@bp.route("/centre/ny", methods=["GET", "POST"], defaults={"centre_id": None})
@bp.route("/centre/<int:centre_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_centre(centre_id: int | None) -> str | Response:
    centre = _get(Centre, centre_id) if centre_id else None
    form = CentreForm(obj=centre)
    form.organisation_id.choices = _organisation_choices()
    form.local_area_id.choices = [(0, _("Not given"))] + [
        (a.id, a.name) for a in catalogue.local_areas()
    ]
    if form.validate_on_submit():
        data = catalogue.CentreData(
            name=form.name.data,
            kind=form.kind.data,
            address=form.address.data or "",
            postcode=form.postcode.data,
            organisation_id=form.organisation_id.data,
            local_area_id=form.local_area_id.data or None,
            phone=form.phone.data or None,
            active=form.active.data,
        )
        try:
            saved = catalogue.save_centre(current_user, data, centre)
        except catalogue.NameTaken:
            form.name.errors.append(str(NAME_TAKEN))
        except catalogue.UnknownPostcode:
            form.postcode.errors.append(str(UNKNOWN_POSTCODE))
        else:
            flash(_("%(name)s is saved.", name=saved.name), "success")
            if centre is None:
                return redirect(url_for("admin.invite_staff", centre=saved.id))
            return redirect(url_for("admin.centres"))
    return render_template("admin/centre_form.html", form=form, row=centre)


# Activity types


@bp.get("/aktiviteter/")
@role_required(Role.ADMIN)
def activity_types() -> str:
    return render_template("admin/activity_types.html", rows=services.overview().activity_types)


@bp.route("/aktiviteter/ny", methods=["GET", "POST"], defaults={"activity_id": None})
@bp.route("/aktiviteter/<int:activity_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_activity_type(activity_id: int | None) -> str | Response:
    activity = _get(ActivityType, activity_id) if activity_id else None
    form = ActivityTypeForm(obj=activity)
    if form.validate_on_submit():
        data = catalogue.ActivityTypeData(
            name_da=form.name_da.data,
            name_en=form.name_en.data,
            description_da=form.description_da.data or "",
            description_en=form.description_en.data or "",
            requires_child_certificate=form.requires_child_certificate.data,
            sort_order=form.sort_order.data,
            active=form.active.data,
        )
        try:
            catalogue.save_activity_type(current_user, data, activity)
        except catalogue.NameTaken:
            form.name_da.errors.append(str(NAME_TAKEN))
        else:
            flash(_("The activity is saved."), "success")
            return redirect(url_for("admin.activity_types"))
    return render_template("admin/activity_type_form.html", form=form, row=activity)


# Staff accounts


def _staff_form(form: StaffForm) -> StaffForm:
    form.organisation_ids.choices = _organisation_choices()
    form.centre_ids.choices = [(c.id, centre_line(c)) for c in catalogue.centres()]
    return form


def _staff_data(form: StaffForm) -> services.StaffData:
    return services.StaffData(
        name=form.name.data,
        role=form.role.data,
        organisation_ids=list(form.organisation_ids.data or []),
        centre_ids=list(form.centre_ids.data or []),
    )


def _missing_place(form: StaffForm, exc: services.MissingPlace) -> None:
    if exc.field == "organisation_ids":
        form.organisation_ids.errors = [_("Choose the coordinator's organisation.")]
    else:
        form.centre_ids.errors = [_("Choose the centre the person works at.")]


@bp.get("/personale/")
@role_required(Role.ADMIN)
def staff() -> str:
    return render_template(
        "admin/staff.html",
        rows=services.staff_accounts(),
        pending=services.invitation_pending,
    )


@bp.route("/personale/inviter", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def invite_staff() -> str | Response:
    form = _staff_form(InviteForm())
    if not form.is_submitted():
        centre = _requested_centre()
        if centre is not None:
            form.role.data, form.centre_ids.data = Role.CENTRE.value, [centre]
    if form.validate_on_submit():
        try:
            person = services.invite_staff(
                current_user, form.email.data, _staff_data(form), locale=select_locale()
            )
        except services.EmailTaken:
            form.email.errors.append(_("There is already an account with this email."))
        except services.MissingPlace as exc:
            _missing_place(form, exc)
        except services.NotAllowed as exc:
            form.role.errors.append(str(NOT_ALLOWED[exc.code]))
        else:
            flash(
                _(
                    "%(name)s is invited. We have emailed %(email)s a link to choose a password.",
                    name=person.name,
                    email=person.email,
                ),
                "success",
            )
            return redirect(url_for("admin.staff"))
    return render_template("admin/staff_form.html", form=form, person=None)


def _requested_centre() -> int | None:
    """The centre given in ``?centre=`` (after creating one: invite its staff next)."""
    value = request.args.get("centre", "")
    return int(value) if value.isdecimal() and len(value) < 10 else None


def _staff_member(user_id: int):  # type: ignore[no-untyped-def]
    person = services.staff_account(user_id)
    if person is None:
        abort(404)
    return person


@bp.route("/personale/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_staff(user_id: int) -> str | Response:
    person = _staff_member(user_id)
    form = _staff_form(StaffForm(obj=person))
    if not form.is_submitted():
        form.organisation_ids.data = [o.id for o in person.organisations]
        form.centre_ids.data = [c.id for c in person.centres]
    if form.validate_on_submit():
        try:
            services.update_staff(current_user, person, _staff_data(form))
        except services.MissingPlace as exc:
            _missing_place(form, exc)
        except services.NotAllowed as exc:
            form.role.errors.append(str(NOT_ALLOWED[exc.code]))
        else:
            flash(_("The changes are saved."), "success")
            return redirect(url_for("admin.staff"))
    return render_template(
        "admin/staff_form.html",
        form=form,
        person=person,
        pending=services.invitation_pending(person),
    )


@bp.post("/personale/<int:user_id>/<any(deaktiver, aktiver):action>")
@role_required(Role.ADMIN)
def set_staff_active(user_id: int, action: str) -> Response:
    person = _staff_member(user_id)
    active = action == "aktiver"
    try:
        services.set_staff_active(current_user, person, active)
    except services.NotAllowed as exc:
        flash(str(NOT_ALLOWED[exc.code]), "warning")
    else:
        if active:
            flash(_("%(name)s can log in again.", name=person.name), "success")
        else:
            flash(
                _("%(name)s is deactivated and has been logged out.", name=person.name), "success"
            )
    return redirect(url_for("admin.staff"))


@bp.post("/personale/<int:user_id>/send-invitation")
@role_required(Role.ADMIN)
def resend_invitation(user_id: int) -> Response:
    person = _staff_member(user_id)
    try:
        services.resend_invitation(current_user, person)
    except services.NotAllowed as exc:
        flash(str(NOT_ALLOWED[exc.code]), "warning")
    else:
        flash(_("We have sent %(email)s a new invitation.", email=person.email), "success")
    return redirect(url_for("admin.staff"))


# How staff log in: two-factor and password per role, and identities waiting for approval.


def _policy_form() -> LoginPolicyForm:
    form = LoginPolicyForm()
    if not form.is_submitted():
        for policy in two_factor.policies():
            getattr(form, f"{policy.role}_two_factor").data = policy.require_two_factor
            getattr(form, f"{policy.role}_password").data = policy.password_login
    return form


@bp.route("/login", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def login_settings() -> str | Response:
    """Per staff role: require two-factor, allow the password (off only where a staff OpenID
    provider logs the role in); and the first logins waiting for approval."""
    form = _policy_form()
    sso_roles = oidc.staff_provider_roles()
    if form.validate_on_submit():
        wanted = {
            role: (
                bool(getattr(form, f"{role}_two_factor").data),
                bool(getattr(form, f"{role}_password").data),
            )
            for role in two_factor.STAFF_ROLES
        }
        # All or nothing: a role whose password cannot go off yet saves no role.
        locked = [
            role
            for role, (_2fa, password) in wanted.items()
            if not password and role not in sso_roles
        ]
        for role in locked:
            getattr(form, f"{role}_password").errors.append(
                _(
                    "The password can only be switched off when a single sign-on provider "
                    "logs this role in."
                )
            )
        if not locked:
            for role, (require, password) in wanted.items():
                two_factor.set_policy(
                    current_user,
                    role,
                    require_two_factor=require,
                    password_login=password,
                    sso_roles=sso_roles,
                    now=utcnow(),
                )
            flash(_("The login settings are saved."), "success")
            return redirect(url_for("admin.login_settings"))
    return render_template(
        "admin/login_settings.html",
        form=form,
        sso_roles=sso_roles,
        pending=oidc.pending_links(),
        decide_form=LoginPolicyForm(formdata=None),
        providers=oidc.providers(),
    )


@bp.post("/login/forbindelser/<int:link_id>/<any(godkend, afvis):action>")
@role_required(Role.ADMIN)
def decide_link(link_id: int, action: str) -> Response:
    link = _get(OidcLink, link_id)
    if link.approved:
        abort(404)
    oidc.decide_link(current_user, link, action == "godkend", utcnow())
    if action == "godkend":
        flash(_("The login is approved for %(name)s.", name=link.user.name), "success")
    else:
        flash(_("The login is refused."), "info")
    return redirect(url_for("admin.login_settings"))


@bp.post("/personale/<int:user_id>/to-faktor")
@role_required(Role.ADMIN)
def reset_two_factor(user_id: int) -> Response:
    person = _staff_member(user_id)
    two_factor.reset(current_user, person)
    flash(_("Two-factor login is reset for %(name)s.", name=person.name), "success")
    return redirect(url_for("admin.edit_staff", user_id=person.id))
