from __future__ import annotations

from flask import Blueprint, render_template

from volunteer.admin import services
from volunteer.auth.decorators import role_required
from volunteer.auth.models import Role

bp = Blueprint("admin", __name__)


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> str:
    return render_template("admin/index.html", overview=services.overview())
