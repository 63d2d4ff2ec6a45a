"""Coordinators' pages about volunteers: the list, one volunteer, the børneattest record."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.clock import to_local
from volunteer.coordination.views import bp
from volunteer.db import utcnow
from volunteer.urls import page_number
from volunteer.volunteers import staff
from volunteer.volunteers.forms import CertificateForm, VolunteerFilterForm


@bp.get("/frivillige")
@role_required(Role.COORDINATOR, Role.ADMIN)
def volunteers() -> str:
    form = VolunteerFilterForm(request.args)
    form.fill_choices(current_user.locale)
    form.validate()
    page = page_number()
    result = staff.volunteer_list(current_user, form.to_filter(), to_local(utcnow()).date(), page)
    return render_template("coordination/volunteers.html", form=form, result=result)


@bp.route("/frivillige/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def volunteer_detail(user_id: int) -> str | BaseResponse:
    form = CertificateForm()
    today = to_local(utcnow()).date()
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
    profile = staff.view_volunteer(current_user, user_id)
    return render_template(
        "coordination/volunteers_detail.html",
        profile=profile,
        form=form,
        today=today,
    )
