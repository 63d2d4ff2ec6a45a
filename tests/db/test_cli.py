"""The command-line tasks: seed-demo and create-user."""

from __future__ import annotations

from sqlalchemy import func, select

from volunteer import demo
from volunteer.auth.services import authenticate
from volunteer.extensions import db
from volunteer.models import (
    ActivityType,
    Assignment,
    AvailabilityWindow,
    Centre,
    LocalArea,
    Need,
    Occurrence,
    Organisation,
    Role,
    User,
    Visit,
    VolunteerProfile,
)

COUNTED = (
    Organisation,
    LocalArea,
    Centre,
    ActivityType,
    User,
    VolunteerProfile,
    AvailabilityWindow,
    Need,
    Occurrence,
    Assignment,
    Visit,
)


def _counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def test_seed_demo_builds_the_hedensted_world_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "koordinator@example.org" in result.output and demo.DEMO_PASSWORD in result.output
    first = _counts()
    # 300 volunteers, one more kept by a coordinator (no email), 4 staff, 12 centre logins.
    assert first["User"] == 300 + 1 + 4 + 12 and first["VolunteerProfile"] == 301
    assert first["Need"] >= 35 and first["Centre"] >= 10 and first["LocalArea"] >= 8
    assert first["ActivityType"] == 5 and first["Occurrence"] > 200 and first["Visit"] > 20
    towns = set(db.session.scalars(select(LocalArea.name)))
    assert {"Juelsminde", "Hedensted", "Tørring", "Uldum", "Stouby", "Hornsyld"} <= towns

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "already" in result.output
    assert _counts() == first


def test_seed_demo_is_deterministic(app):
    demo.seed(volunteers=40)
    names = list(db.session.scalars(select(User.name).order_by(User.email)))
    windows = list(
        db.session.execute(
            select(AvailabilityWindow.weekday, AvailabilityWindow.start_time).order_by(
                AvailabilityWindow.id
            )
        )
    )
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    demo.seed(volunteers=40)
    assert list(db.session.scalars(select(User.name).order_by(User.email))) == names
    assert (
        list(
            db.session.execute(
                select(AvailabilityWindow.weekday, AvailabilityWindow.start_time).order_by(
                    AvailabilityWindow.id
                )
            )
        )
        == windows
    )


def test_demo_logins_work(app):
    demo.seed(volunteers=10)
    for login in ("koordinator@example.org", "bakkegaarden@example.org", "frivillig@example.org"):
        assert authenticate(login, demo.DEMO_PASSWORD) is not None


def test_every_demo_centre_has_staff_who_can_log_in(app):
    """Nobody could confirm the visits of 10 of the 12 demo centres: each has a login now,
    printed in the demo's login list."""
    result = app.test_cli_runner().invoke(args=["seed-demo", "--volunteers", "10"])
    assert result.exit_code == 0, result.output
    centres = db.session.scalars(select(Centre)).all()
    assert len(centres) == len(demo.CENTRES) == 12
    for centre in centres:
        staff = [u for u in centre.staff if u.is_active and u.role == Role.CENTRE]
        assert staff, centre.name
        for person in staff:
            assert authenticate(person.email, demo.DEMO_PASSWORD) is not None
            assert person.email in result.output
    assert "aktivitetscenter-loesning@example.org" in result.output


def test_create_user_makes_a_staff_account(app):
    org = Organisation(name="Hedensted Kommune", kind="municipality")
    db.session.add(org)
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--role",
            "coordinator",
            "--name",
            "Mette Madsen",
            "--organisation",
            "Hedensted Kommune",
            "Mette@Example.org",
        ],
        input="lang-hemmelig-kode\nlang-hemmelig-kode\n",
    )
    assert result.exit_code == 0, result.output
    user = authenticate("mette@example.org", "lang-hemmelig-kode")
    assert user is not None and user.role == Role.COORDINATOR
    assert [o.name for o in user.organisations] == ["Hedensted Kommune"]


def test_create_user_refuses_a_duplicate_email(app):
    args = ["create-user", "--role", "admin", "--name", "A", "a@example.org"]
    runner = app.test_cli_runner()
    assert runner.invoke(args=args, input="kode-kode-kode\nkode-kode-kode\n").exit_code == 0
    result = runner.invoke(args=args, input="kode-kode-kode\nkode-kode-kode\n")
    assert result.exit_code != 0 and "already an account" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_coordinator_needs_an_organisation_that_exists(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "--role", "coordinator", "--name", "A", "a@example.org"],
        input="kode-kode-kode\nkode-kode-kode\n",
    )
    assert result.exit_code != 0 and "--organisation" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "coordinator",
            "--name",
            "A",
            "--organisation",
            "Ingen",
            "a@example.org",
        ],
        input="kode-kode-kode\nkode-kode-kode\n",
    )
    assert result.exit_code != 0 and "Ingen" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_every_demo_need_names_a_coordinator_of_its_organisation(app):
    demo.seed(volunteers=10)
    needs = db.session.scalars(select(Need)).all()
    assert needs and all(n.contact is not None for n in needs)
    assert all(n.organisation in n.contact.organisations for n in needs)
    assert all(n.contact.role == "coordinator" and n.contact.phone for n in needs)
