"""The TOTP secret is stored encrypted at rest (a Fernet token under a key derived from
SAMSKAB_SECRET_KEY): the database holds no base32 secret, the code reads the plain one."""

from __future__ import annotations

import pyotp
from sqlalchemy import text

from support.factories import user
from volunteer.auth import sealed, two_factor
from volunteer.auth.models import Role, User
from volunteer.db import utcnow
from volunteer.extensions import db


def _stored(person: User) -> str:
    return db.session.execute(
        text("SELECT totp_secret FROM users WHERE id = :id"), {"id": person.id}
    ).scalar_one()


def test_the_stored_value_is_not_the_secret(app):
    person = user(role=Role.CENTRE)
    secret = two_factor.begin_enrolment(person)
    assert len(secret) == 32
    stored = _stored(person)
    assert stored != secret and secret not in stored
    assert stored.startswith("gAAAAA") and len(stored) <= sealed.SEALED_LENGTH
    db.session.expire_all()
    again = db.session.get(User, person.id)
    assert again.totp_secret == secret
    # The secret still works: the first code switches two-factor on.
    assert two_factor.confirm_enrolment(again, pyotp.TOTP(secret).now(), utcnow()) is not None


def test_each_sealing_differs_and_another_key_cannot_read_it(app):
    assert sealed.seal("JBSWY3DPEHPK3PXP") != sealed.seal("JBSWY3DPEHPK3PXP")
    token = sealed.seal("JBSWY3DPEHPK3PXP")
    assert sealed.unseal(token) == "JBSWY3DPEHPK3PXP"
    app.config["SECRET_KEY"] = "another-secret-key-" * 3
    assert sealed.unseal(token) is None
    assert sealed.unseal("not a token") is None
