from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from volunteer.db import utcnow
from volunteer.volunteers import services

bp = Blueprint("volunteers", __name__)


@bp.get("/")
@login_required
def home() -> str:
    return render_template(
        "volunteers/home.html", overview=services.overview(current_user, utcnow())
    )
