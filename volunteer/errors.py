"""Error pages in the visitor's language; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from volunteer.extensions import db

log = logging.getLogger("samskab.errors")


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something in the request was wrong"), _("Please go back and try again.")),
        403: (
            _("You do not have access to this page"),
            _("If you think you should have access, contact your coordinator."),
        ),
        404: (
            _("We cannot find that page"),
            _(
                "The page may have been moved or removed. "
                "Check the address, or go to the front page."
            ),
        ),
        405: (_("That cannot be done here"), _("Please go back and try again.")),
        413: (
            _("That was too much text or too large a file"),
            _("Please shorten it and try again."),
        ),
        429: (
            _("Too many attempts"),
            _("Please wait a minute and try again."),
        ),
        500: (
            _("Something went wrong on our side"),
            _("We have been told about it. Please try again in a little while."),
        ),
        503: (
            _("Samskab is busy right now"),
            _("Please try again in a little while."),
        ),
    }


def _render(code: int, detail: str | None = None) -> tuple[str, int]:
    title, text = _messages().get(code, _messages()[500])
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    return _render(error.code or 500)


def handle_csrf_error(error: CSRFError) -> tuple[str, int]:
    return _render(
        400, _("The form had expired. Please go back, reload the page and send it again.")
    )


def handle_unexpected(error: Exception) -> tuple[str, int]:
    db.session.rollback()
    log.exception("Unhandled error", exc_info=error)
    return _render(500)


# Seconds a client (or a proxy) is told to wait before trying again after a 503.
RETRY_AFTER_S = 30


def handle_database_error(error: DBAPIError) -> tuple[str, int, dict[str, str]] | tuple[str, int]:
    """The database is unreachable, locked or restarting: say "busy, try again" (503), not
    "broken" (500). Other database errors (an integrity or data error) are bugs: a 500."""
    if not (isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated):
        return handle_unexpected(error)
    try:
        db.session.rollback()  # nothing half-written stays in the session
    except DBAPIError:
        db.session.close()  # the connection is gone; the pool makes a new one next time
    log.error("Database unavailable: %s", error.orig or error, exc_info=error)
    # Render as an anonymous visitor: the logged-in user's row was expired by the rollback
    # (or never loaded), and reading it again would hit the missing database inside this page.
    current_app.login_manager._update_request_context_with_user()  # type: ignore[attr-defined]
    body, code = _render(503)
    return body, code, {"Retry-After": str(RETRY_AFTER_S)}


def init_app(app: Flask) -> None:
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
