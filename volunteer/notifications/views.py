"""The outbox ("Udbakke") and scheduler status pages for administrators and coordinators."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.notifications import health, links, services
from volunteer.notifications.models import Channel, JobRunStatus, OutboxState, SmsStatus

bp = Blueprint("notifications", __name__)

STAFF = (Role.ADMIN, Role.COORDINATOR)

OUTBOX_STATES = {
    OutboxState.PENDING: _l("Waiting"),
    OutboxState.SENT: _l("Sent"),
    OutboxState.FAILED: _l("Failed"),
}
CHANNELS = {Channel.EMAIL: _l("Email"), Channel.SMS: _l("SMS")}
SMS_STATUSES = {
    SmsStatus.PENDING: _l("Not sent yet"),
    SmsStatus.SENT: _l("Sent, not yet delivered"),
    SmsStatus.DELIVERED: _l("Delivered to the phone"),
    SmsStatus.FAILED: _l("Not delivered"),
}
JOB_STATUSES = {
    JobRunStatus.RUNNING: _l("Running"),
    JobRunStatus.OK: _l("OK"),
    JobRunStatus.ERROR: _l("Error"),
}


@bp.app_template_filter("outbox_state")
def outbox_state(code: str) -> str:
    return str(OUTBOX_STATES.get(code, code))  # type: ignore[call-overload]


@bp.app_template_filter("outbox_channel")
def outbox_channel(code: str) -> str:
    return str(CHANNELS.get(code, code))  # type: ignore[call-overload]


@bp.app_template_filter("sms_status")
def sms_status(code: str | None) -> str:
    return str(SMS_STATUSES.get(code, code or "–"))  # type: ignore[call-overload,arg-type]


# Bearer links never reach a staff page, whatever the role: see volunteer.notifications.links.
bp.app_template_filter("hide_links")(links.redact)


@bp.app_template_filter("job_status")
def job_status(code: str) -> str:
    return str(JOB_STATUSES.get(code, code))  # type: ignore[call-overload]


@bp.get("/udbakke/")
@role_required(*STAFF)
def outbox() -> str:
    state = request.args.get("state")
    if state not in {s.value for s in OutboxState}:
        state = None
    return render_template(
        "notifications/outbox.html",
        messages=services.messages(current_user, state),
        state=state,
        states=list(OutboxState),
    )


@bp.get("/udbakke/<int:message_id>")
@role_required(*STAFF)
def message(message_id: int) -> str:
    found = services.open_message(current_user, message_id) or abort(404)
    return render_template("notifications/message.html", message=found)


@bp.post("/udbakke/<int:message_id>/send-igen")
@role_required(*STAFF)
def retry(message_id: int) -> Response:
    found = services.message_for(current_user, message_id) or abort(404)
    try:
        services.retry(found, datetime.now(UTC))
    except services.NotRetryable:
        flash(_("Only a failed message can be sent again."), "warning")
    else:
        flash(_("The message will be sent again shortly."), "success")
    return redirect(url_for("notifications.message", message_id=message_id))


@bp.get("/planlaegger")
@role_required(Role.ADMIN)
def scheduler_status() -> str:
    from volunteer.scheduler import JOBS

    return render_template(
        "notifications/status.html", status=health.status(datetime.now(UTC)), jobs=JOBS
    )
