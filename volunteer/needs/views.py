from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.needs import services

bp = Blueprint("needs", __name__)

PER_PAGE = 20


@bp.get("/")
def index() -> str:
    page = request.args.get("side", 1, type=int)
    pagination = db.paginate(
        services.open_needs_query(utcnow()), page=max(page, 1), per_page=PER_PAGE, error_out=False
    )
    cards = services.cards_for(pagination.items, utcnow())
    return render_template("needs/index.html", cards=cards, pagination=pagination)


@bp.get("/<int:need_id>")
def detail(need_id: int) -> str:
    need = services.get_public_need(need_id)
    if need is None:
        abort(404)
    now = utcnow()
    (card,) = services.cards_for([need], now)
    occurrences = services.upcoming_occurrences(need, now)
    return render_template("needs/detail.html", card=card, occurrences=occurrences)
