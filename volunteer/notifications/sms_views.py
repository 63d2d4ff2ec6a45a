"""The public ends of SMS: the gateway's delivery reports (``/sms/status``) and the short links
in SMS (``/s/<code>``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from volunteer.db import utcnow
from volunteer.extensions import csrf, limiter
from volunteer.notifications import delivery_reports, short_links

bp = Blueprint("sms", __name__)


def _webhook_limit() -> str:
    return current_app.config["SMS_WEBHOOK_RATE_LIMIT"]


def _short_link_limit() -> str:
    return current_app.config["SHORT_LINK_RATE_LIMIT"]


@bp.post("/sms/status")
@csrf.exempt  # the gateway has no session: the HMAC signature is the permission
@limiter.limit(_webhook_limit)
def status() -> Response:
    """A delivery report. 403 without a valid signature, 400 when unreadable, 404 for an id no
    SMS has (so a gateway that retries reports may try again), 204 when recorded."""
    body = request.get_data(cache=False)
    signature = request.headers.get(delivery_reports.SIGNATURE_HEADER)
    if not delivery_reports.verified(body, signature, current_app.config["SMS_WEBHOOK_SECRET"]):
        abort(403)
    try:
        report = delivery_reports.parse(body)
    except delivery_reports.BadReport:
        abort(400)
    if not delivery_reports.record(report, utcnow()):
        abort(404)
    return Response(status=204)


@bp.get("/s/<code>")
@limiter.limit(_short_link_limit)
def short_link(code: str) -> Response:
    """A short link from an SMS: on to the page it stands for, with a freshly minted link."""
    target = short_links.target(code, utcnow())
    if target is None:
        flash(_("The link is no longer valid. Log in to see and cancel your visits."), "warning")
        return redirect(url_for("volunteers.visits"))
    return redirect(target, code=303)
