"""Every route × every kind of user → the expected status (the table is
``tests/support/routes.py``)."""

from __future__ import annotations

import pytest

from support.auth import log_in
from support.routes import LOGIN, ROLES, SESSION_CHANGING, routes


def _status(response) -> int | str:
    if response.status_code == 302 and "/konto/log-ind" in response.headers["Location"]:
        return LOGIN
    return response.status_code


def test_every_route_has_a_rule(app, world):
    covered = set(routes(world))
    served = {r.endpoint for r in app.url_map.iter_rules()} - {"static", "bootstrap.static"}
    assert served == covered, {"without a rule": served - covered, "gone": covered - served}


def test_authorization_matrix(app, world):
    table = routes(world)
    surprises = []
    for index, role in enumerate(ROLES):
        client = app.test_client()
        if role != "anonymous":
            log_in(client, world["users"][role])
        for endpoint, (method, url, expected) in table.items():
            if endpoint in SESSION_CHANGING:
                continue  # checked below, each with a fresh world
            got = _status(getattr(client, method)(url))
            if got != expected[index]:
                surprises.append((role, endpoint, expected[index], got))
    assert not surprises, "\n".join(map(str, surprises))


@pytest.mark.parametrize("endpoint", SESSION_CHANGING)
def test_session_ending_routes(app, world, endpoint):
    method, url, expected = routes(world)[endpoint]
    for index, role in enumerate(ROLES):
        client = app.test_client()
        if role != "anonymous":
            log_in(client, world["users"][role])
        assert _status(getattr(client, method)(url)) == expected[index], role
