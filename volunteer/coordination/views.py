from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role
from volunteer.coordination import services
from volunteer.db import utcnow
from volunteer.needs import services as needs_services

bp = Blueprint("coordination", __name__)


@bp.get("/")
@role_required(Role.COORDINATOR, Role.ADMIN)
def index() -> str:
    cards = needs_services.cards_for(services.needs_for(current_user), utcnow())
    return render_template("coordination/index.html", cards=cards)


# Routes in other modules register on ``bp``; importing them here wires them up.
from volunteer.coordination import matching_views, volunteers  # noqa: E402, F401
