from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from volunteer.caching import anonymous_page_cache
from volunteer.db import utcnow
from volunteer.extensions import csrf
from volunteer.main.services import database_ready, set_locale
from volunteer.needs import services as needs_services
from volunteer.security import is_safe_redirect

bp = Blueprint("main", __name__)

FRONT_PAGE_NEEDS = 8


@bp.get("/")
@anonymous_page_cache
def index() -> str:
    cards = needs_services.open_cards(utcnow(), FRONT_PAGE_NEEDS)
    return render_template("main/index.html", cards=cards)


@bp.get("/om")
def about() -> str:
    return render_template("main/about.html")


@bp.get("/privatliv")
def privacy() -> str:
    return render_template("main/privacy.html")


@bp.get("/tilgaengelighed")
def accessibility() -> str:
    return render_template("main/accessibility.html")


@bp.post("/sprog")
@csrf.exempt
def language() -> Response:
    # For anonymous visitors a forged request could only switch the display language, so the
    # form carries no token (which keeps public pages free of per-session data and cacheable).
    # A logged-in user's choice is saved to their account, so for them the token is checked.
    if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            set_locale(current_user, locale)
    target = request.form.get("next")
    return redirect(target if is_safe_redirect(target) else url_for("main.index"))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """For browsers and tools that ask for /favicon.ico before (or without) reading the page's
    ``<link rel="icon">``: the same SVG, so no page load logs a 404."""
    icon = Path(current_app.static_folder or "static") / "favicon.svg"
    response = Response(icon.read_bytes(), mimetype="image/svg+xml")  # small: no open file left
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness: the process answers (it does not touch the database)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """Readiness for a load balancer: 503 while the database cannot be reached."""
    if database_ready():
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "unavailable", "database": "unreachable"}, 503
