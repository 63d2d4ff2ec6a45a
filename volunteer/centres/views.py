from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.centres import services
from volunteer.db import utcnow

bp = Blueprint("centres", __name__)


@bp.get("/")
@role_required(Role.CENTRE)
def index() -> str:
    expected = services.expected_at_my_centres(current_user, utcnow())
    return render_template("centres/index.html", expected=expected, centres=current_user.centres)
