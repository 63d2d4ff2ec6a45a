"""`flask db upgrade` on an empty database gives exactly the models' schema, on both backends."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, Connection, MetaData, Table, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from support import (
    PG_SKIP,
    PG_URL,
    base_config,
    drop_pg_schema,
    ensure_pg_schema,
    pg_url_with_schema,
)
from volunteer import create_app
from volunteer.extensions import db

DRIFT_SCHEMA = f"samskab_drift_{os.getpid()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        if not PG_URL:
            pytest.skip(PG_SKIP)
        ensure_pg_schema(PG_URL, DRIFT_SCHEMA, fresh=True)
        url = pg_url_with_schema(PG_URL, DRIFT_SCHEMA)
    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        yield app
        db.engine.dispose()
    if request.param == "postgresql":
        drop_pg_schema(PG_URL, DRIFT_SCHEMA)


def _old_activity_type(conn, code: str) -> None:  # type: ignore[no-untyped-def]
    """Activity type 1 with the columns every revision has (the models' table has newer ones)."""
    conn.execute(
        text(
            "INSERT INTO activity_types (id, code, name_da, name_en, description_da,"
            " description_en, requires_child_certificate, sort_order, active)"
            " VALUES (1, :code, :code, :code, '', '', false, 0, true)"
        ),
        {"code": code},
    )


def _drift():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models_exactly(empty_app):
    upgrade()
    assert _drift() == []
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


def test_downgrade_to_base_and_up_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _drift() == []


def test_the_upgrade_command_line_works(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "users" in inspect(db.engine).get_table_names()


def _old(conn: Connection, name: str) -> Table:
    """The model's table as the database at its current revision has it: only the columns that
    revision has, with the model's defaults (the models are newer: a column added since must not
    be written by a Core insert)."""
    present = {c["name"] for c in inspect(conn).get_columns(name)}
    return Table(
        name,
        MetaData(),
        *(
            Column(c.name, c.type, primary_key=c.primary_key, default=c.default)
            for c in db.metadata.tables[name].columns
            if c.name in present
        ),
    )


def _insert_0001_assignments() -> dict[int, int]:
    """Two needs with sign-ups in a 0001 database (Core inserts: the models are newer).
    Returns each assignment's expected queue number."""
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            insert(_old(conn, "organisations")),
            {"id": 1, "name": "Kommune", "kind": "municipality"},
        )
        _old_activity_type(conn, "spisevenner")
        conn.execute(
            insert(_old(conn, "users")),
            [{"id": i, "email": f"v{i}@example.org", "name": f"V {i}"} for i in range(1, 6)],
        )
        need = {
            "organisation_id": 1,
            "activity_type_id": 1,
            "title": "Spiseven",
            "postcode": "7130",
            "town": "Juelsminde",
            "lat": 55.7,
            "lon": 10.0,
            "weekday": 3,
            "start_time": time(17, 30),
            "end_time": time(19),
            "first_date": date(2026, 11, 5),
        }
        conn.execute(insert(_old(conn, "needs")), [{"id": 1, **need}, {"id": 2, **need}])
        # (id, need, volunteer, created_at): need 1 out of id order, with a tie on the time.
        rows = [
            (1, 1, 1, t0 + timedelta(minutes=5)),
            (2, 1, 2, t0),
            (3, 1, 3, t0 + timedelta(minutes=5)),
            (4, 2, 4, t0 + timedelta(minutes=9)),
            (5, 1, 5, t0 + timedelta(minutes=1)),
            (6, 2, 1, t0),
        ]
        conn.execute(
            insert(_old(conn, "assignments")),
            [
                {
                    "id": i,
                    "need_id": n,
                    "volunteer_id": v,
                    "created_at": at,
                    "state": "waitlisted",
                    "source": "signup",
                }
                for i, n, v, at in rows
            ],
        )
    return {2: 1, 5: 2, 1: 3, 3: 4, 6: 1, 4: 2}


def test_0002_numbers_existing_sign_ups_in_their_old_order(empty_app):
    """Rows from before the queue number keep their place: numbered by (created_at, id) per
    need, and the schema then matches the models."""
    upgrade(revision="0001")
    expected = _insert_0001_assignments()
    upgrade()
    with db.engine.connect() as conn:
        numbers = dict(conn.execute(text("SELECT id, queue_number FROM assignments")).all())
    assert numbers == expected
    assert _drift() == []


def test_0003_hides_the_bearer_links_stored_before_it(empty_app):
    """Messages written before 0003 held live reset and one-click links: the upgrade replaces
    them, and leaves other links and messages as they were."""
    upgrade(revision="0002")
    reset = "https://samskab.dk/konto/nulstil/eyJ1IjoxfQ.abc.def"
    confirm = "https://samskab.dk/center/link/WzEsImNvbmZpcm1lZCIsMl0.xyz"
    message = {
        "recipient_email": "karen@example.org",
        "locale": "da",
        "subject": "Emne",
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": datetime(2026, 12, 1, tzinfo=UTC),
        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
        "body_html": None,
    }
    with db.engine.begin() as conn:
        conn.execute(
            insert(_old(conn, "outbox_messages")),
            [
                {**message, "id": 1, "dedup_key": "a", "body_text": f"Åbn:\n{reset}\n"},
                {
                    **message,
                    "id": 2,
                    "dedup_key": "b",
                    "body_text": f"Kom: {confirm}\nhttps://samskab.dk/center/",
                    "body_html": f'<a href="{confirm}">Kom</a>',
                },
                {**message, "id": 3, "dedup_key": "c", "body_text": "https://samskab.dk/opgaver/4"},
            ],
        )
    upgrade()
    with db.engine.connect() as conn:
        rows = dict(
            (id_, (body, html))
            for id_, body, html in conn.execute(
                text("SELECT id, body_text, body_html FROM outbox_messages")
            )
        )
    assert rows[1] == ("Åbn:\n[link skjult]\n", None)
    assert rows[2] == (
        "Kom: [link skjult]\nhttps://samskab.dk/center/",
        '<a href="[link skjult]">Kom</a>',
    )
    assert rows[3] == ("https://samskab.dk/opgaver/4", None)
    assert _drift() == []


def test_0004_keeps_solved_runs_as_done_and_the_old_code_can_still_write_them(empty_app):
    """Runs from before the worker were solved in the request: they become done. The previous
    version's code leaves ``state`` out during a rolling upgrade and gets done too."""
    upgrade(revision="0003")
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    old_run = (
        "INSERT INTO match_runs (id, organisation_id, created_at, dry_run, status, gap, seconds,"
        " needs, volunteers, proposals, stats, unmatched)"
        " VALUES (:id, 1, :at, false, 'optimal', 0, 0.5, 2, 3, 1, '{}', '{}')"
    )
    with db.engine.begin() as conn:
        conn.execute(
            insert(_old(conn, "organisations")),
            {"id": 1, "name": "Kommune", "kind": "municipality"},
        )
        conn.execute(text(old_run), {"id": 1, "at": t0})
    upgrade()
    assert _drift() == []
    with db.engine.begin() as conn:
        conn.execute(text(old_run), {"id": 2, "at": t0})
        rows = conn.execute(
            text("SELECT id, state, started_at IS NOT NULL, error FROM match_runs ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [(1, "done", True, None), (2, "done", False, None)]


def test_0005_gives_each_need_its_creator_or_the_first_coordinator_as_contact(empty_app):
    """The creator when still an active coordinator of the need's organisation; else that
    organisation's first active coordinator; else no contact."""
    upgrade(revision="0004")
    users = [
        # (id, role, active, organisation)
        (1, "coordinator", True, 1),
        (2, "coordinator", True, 1),
        (3, "volunteer", True, None),
        (4, "coordinator", False, 2),
        (5, "coordinator", True, 2),
        (6, "coordinator", True, 2),
        (7, "coordinator", True, 3),  # another organisation's coordinator created need 4
    ]
    need = {
        "activity_type_id": 1,
        "title": "Lektiecafé",
        "postcode": "7160",
        "town": "Tørring",
        "lat": 55.85,
        "lon": 9.48,
        "weekday": 0,
        "start_time": time(15),
        "end_time": time(17),
        "first_date": date(2026, 11, 2),
    }
    # need id → (organisation, creator)
    needs = {1: (1, 2), 2: (1, 3), 3: (2, 4), 4: (4, 7), 5: (1, None), 6: (3, 4)}
    with db.engine.begin() as conn:
        conn.execute(
            insert(_old(conn, "organisations")),
            [{"id": i, "name": f"Org {i}", "kind": "association"} for i in range(1, 5)],
        )
        _old_activity_type(conn, "lektiecafe")
        conn.execute(
            insert(_old(conn, "users")),
            [
                {"id": i, "email": f"u{i}@example.org", "name": f"U {i}", "role": r, "active": a}
                for i, r, a, _org in users
            ],
        )
        conn.execute(
            insert(_old(conn, "organisation_members")),
            [{"user_id": i, "organisation_id": org} for i, _r, _a, org in users if org],
        )
        conn.execute(
            insert(_old(conn, "needs")),
            [
                {**need, "id": i, "organisation_id": org, "created_by_id": creator}
                for i, (org, creator) in needs.items()
            ],
        )
        # SQLite copies the table: its children must survive (no cascade from the drop).
        starts = datetime(2026, 11, 2, 14, tzinfo=UTC)
        conn.execute(
            insert(_old(conn, "occurrences")),
            {"id": 1, "need_id": 1, "starts_at": starts, "ends_at": starts + timedelta(hours=2)},
        )
        conn.execute(
            insert(_old(conn, "assignments")),
            {"id": 1, "need_id": 1, "volunteer_id": 3, "state": "accepted", "source": "signup"},
        )
    upgrade()
    with db.engine.connect() as conn:
        contacts = dict(conn.execute(text("SELECT id, contact_id FROM needs")).all())
        children = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("occurrences", "assignments")
        ]
    assert contacts == {1: 2, 2: 1, 3: 5, 4: None, 5: 1, 6: 7}
    assert children == [1, 1]
    assert _drift() == []
    downgrade(revision="0004")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM assignments")).scalar() == 1


def test_0006_asks_for_approval_nowhere_until_switched_on_and_keeps_every_link(empty_app):
    """Existing activity types do not require approval. Rebuilding the assignments table (its
    state check gains ``pending``) keeps the visits that point at its rows; on the way down a
    pending yes becomes withdrawn (the old schema has no such state)."""
    upgrade(revision="0005")
    _insert_0001_assignments()  # activity type 1, needs 1–2, waitlisted sign-ups 1–6
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO occurrences (id, need_id, starts_at, ends_at, status)"
                " VALUES (1, 1, :at, :end, 'scheduled')"
            ),
            {"at": t0, "end": t0 + timedelta(hours=1)},
        )
        conn.execute(
            text(
                "INSERT INTO visits"
                " (id, occurrence_id, volunteer_id, assignment_id, state, created_at)"
                " VALUES (1, 1, 1, 1, 'confirmed', :at)"
            ),
            {"at": t0},
        )
    upgrade()
    assert _drift() == []
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT assignment_id FROM visits")).scalar() == 1
        assert not conn.execute(text("SELECT requires_approval FROM activity_types")).scalar()
        conn.execute(text("UPDATE assignments SET state = 'pending' WHERE id = 1"))
    downgrade(revision="0005")
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT state FROM assignments WHERE id = 1")).scalar() == (
            "withdrawn"
        )
        assert conn.execute(text("SELECT assignment_id FROM visits")).scalar() == 1
    assert "approvals" not in inspect(db.engine).get_table_names()


def test_0007_counts_existing_addresses_as_confirmed_at_their_creation(empty_app):
    """Accounts from before the rule keep signing up (their addresses have carried Samskab's
    mail); new ones start unconfirmed. Down again, the column goes and nothing else."""
    upgrade(revision="0006")
    t0 = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    with db.engine.begin() as conn:
        for i in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, role, locale, active, session_token,"
                    " created_at) VALUES (:id, :email, 'V', 'volunteer', 'da', true, :token, :at)"
                ),
                {
                    "id": i,
                    "email": f"v{i}@example.org",
                    "token": f"t{i}",
                    "at": t0 + timedelta(days=i),
                },
            )
    upgrade()
    assert _drift() == []
    with db.engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT id FROM users"
                " WHERE email_confirmed_at IS NOT NULL AND email_confirmed_at = created_at"
            )
        ).all()
        assert [i for (i,) in rows] == [1, 2]
    downgrade(revision="0006")
    assert "email_confirmed_at" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2


def test_0012_lets_an_account_have_no_email_and_gives_one_back_going_down(empty_app):
    """Up: two accounts may both lack an email (NULLs never collide) while a given address is
    still unique; nobody is managed. Down: an account without email gets an .invalid
    placeholder, so the column is NOT NULL again and nothing is lost."""
    upgrade(revision="0009")
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    insert_user = text(
        "INSERT INTO users (id, email, name, role, locale, active, session_token, created_at)"
        " VALUES (:id, :email, 'V', 'volunteer', 'da', true, :token, :at)"
    )
    with db.engine.begin() as conn:
        conn.execute(insert_user, {"id": 1, "email": "v1@example.org", "token": "t1", "at": at})
    upgrade()
    assert _drift() == []
    with db.engine.begin() as conn:
        for i in (2, 3):
            conn.execute(insert_user, {"id": i, "email": None, "token": f"t{i}", "at": at})
        managed = text("SELECT count(*) FROM users WHERE managed_by_id IS NOT NULL")
        assert conn.execute(managed).scalar() == 0
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(insert_user, {"id": 4, "email": "v1@example.org", "token": "t4", "at": at})
    downgrade(revision="0009")
    with db.engine.connect() as conn:
        emails = dict(conn.execute(text("SELECT id, email FROM users ORDER BY id")).all())
    assert emails == {
        1: "v1@example.org",
        2: "managed-2@managed.invalid",
        3: "managed-3@managed.invalid",
    }
    columns = {c["name"]: c for c in inspect(db.engine).get_columns("users")}
    assert "managed_by_id" not in columns and columns["email"]["nullable"] is False


def test_0013_adds_trusted_login_and_every_account_logs_in_as_before(empty_app):
    """Additive: accounts keep their passwords and have no second factor, no identity and no
    policy; down again, the tables and columns go and the accounts stay."""
    upgrade(revision="0009")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, role, locale, active, session_token,"
                " created_at, password_hash) VALUES (1, 'c@example.org', 'C', 'coordinator',"
                " 'da', true, 't1', :at, 'hash')"
            ),
            {"at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC)},
        )
    upgrade(revision="0013")
    with db.engine.begin() as conn:
        row = conn.execute(
            text("SELECT password_hash, totp_secret, totp_confirmed_at FROM users")
        ).one()
        assert tuple(row) == ("hash", None, None)
        for table in ("oidc_links", "recovery_codes", "login_policies"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    downgrade(revision="0009")
    tables = set(inspect(db.engine).get_table_names())
    assert not tables & {"oidc_links", "recovery_codes", "login_policies"}
    assert "totp_secret" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1


def test_0011_keeps_every_message_an_email_and_everyone_on_email(empty_app):
    """Before SMS every outbox row was an email and everyone was reached by email; after, an SMS
    needs no email address. Down again, the SMS go (they cannot be emails) and the emails stay."""
    upgrade(revision="0009")
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, role, locale, active, session_token,"
                " created_at) VALUES (1, 'v@example.org', 'V', 'volunteer', 'da', true, 't', :at)"
            ),
            {"at": now},
        )
        conn.execute(
            text(
                "INSERT INTO outbox_messages (id, dedup_key, recipient_email, recipient_id, locale,"
                " subject, body_text, state, attempts, next_attempt_at, created_at)"
                " VALUES (1, 'k:1', 'v@example.org', 1, 'da', 's', 'b', 'sent', 1, :at, :at)"
            ),
            {"at": now},
        )
    upgrade()
    assert _drift() == []
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT contact_channel FROM users")).scalar() == "email"
        assert conn.execute(text("SELECT channel FROM outbox_messages")).scalar() == "email"
        conn.execute(
            text(
                "INSERT INTO outbox_messages (id, dedup_key, channel, to_phone, recipient_id,"
                " locale, subject, body_text, state, attempts, next_attempt_at, created_at,"
                " sms_status) VALUES (2, 'k:1:sms', 'sms', '+4520304050', 1, 'da', 's', 'b',"
                " 'pending', 0, :at, :at, 'pending')"
            ),
            {"at": now},
        )
    downgrade(revision="0009")
    with db.engine.connect() as conn:
        assert [i for (i,) in conn.execute(text("SELECT id FROM outbox_messages"))] == [1]
    assert "channel" not in {c["name"] for c in inspect(db.engine).get_columns("outbox_messages")}


PROPOSAL_TABLES = {
    "proposals",
    "proposal_revisions",
    "proposal_authors",
    "proposal_supports",
    "proposal_follows",
    "proposal_comments",
    "comment_reports",
    "proposal_events",
    "proposal_needs",
    "activity_leads",
}


def test_0014_adds_the_proposal_tables_beside_existing_data_and_removes_only_them(empty_app):
    """Additive: users made before it stay; a declined proposal without a reason is refused by
    the database itself; down again, the proposal tables go and nothing else."""
    upgrade(revision="0009")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, role, locale, active, session_token,"
                " created_at) VALUES (1, 'v@example.org', 'V', 'volunteer', 'da', true, 't',"
                " :at)"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
    upgrade(revision="0014")
    assert set(inspect(db.engine).get_table_names()) >= PROPOSAL_TABLES
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO proposals (id, title, what, for_whom, postcode, town, schedule,"
                " helpers_wanted, helper_roles, ask_room, ask_materials, amount_ore, state,"
                " created_by_id, created_at, updated_at) VALUES (1, 'Gåklub', 'Gå', '', '7130',"
                " 'Juelsminde', 'weekly', 2, '', false, '', 0, 'received', 1, :at, :at)"
            ),
            {"at": datetime(2026, 11, 2, tzinfo=UTC)},
        )
    with pytest.raises(Exception), db.engine.begin() as conn:  # noqa: B017,PT011
        conn.execute(text("UPDATE proposals SET state = 'declined' WHERE id = 1"))
    downgrade(revision="0009")
    assert not PROPOSAL_TABLES & set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1


POOL_TABLES = {"pools", "pool_grants", "pool_votes", "activity_reports"}


def test_0015_adds_the_pool_tables_and_one_pool_per_area_and_year(empty_app):
    """Additive; a second pool for the same area and year, or a second vote by the same account
    for the same proposal, is refused by the database itself; down again, only they go."""
    upgrade(revision="0014")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, role, locale, active, session_token,"
                " created_at) VALUES (1, 'v@example.org', 'V', 'volunteer', 'da', true, 't',"
                " :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO proposals (id, title, what, for_whom, postcode, town, schedule,"
                " helpers_wanted, helper_roles, ask_room, ask_materials, amount_ore, state,"
                " created_by_id, created_at, updated_at) VALUES (1, 'Gåklub', 'Gå', '', '7130',"
                " 'Juelsminde', 'weekly', 2, '', false, '', 0, 'received', 1, :at, :at)"
            ),
            {"at": at},
        )
    area_id = _any_local_area_id()
    upgrade(revision="0015")
    assert set(inspect(db.engine).get_table_names()) >= POOL_TABLES
    pool = (
        "INSERT INTO pools (local_area_id, year, amount_ore, voting, created_at)"
        " VALUES (:area, 2026, 5000000, true, :at)"
    )
    with db.engine.begin() as conn:
        conn.execute(text(pool), {"area": area_id, "at": at})
        conn.execute(
            text(
                "INSERT INTO pool_votes (pool_id, proposal_id, user_id, created_at)"
                " VALUES (1, 1, 1, :at)"
            ),
            {"at": at},
        )
    with pytest.raises(Exception), db.engine.begin() as conn:  # noqa: B017,PT011
        conn.execute(text(pool), {"area": area_id, "at": at})
    with pytest.raises(Exception), db.engine.begin() as conn:  # noqa: B017,PT011
        conn.execute(
            text(
                "INSERT INTO pool_votes (pool_id, proposal_id, user_id, created_at)"
                " VALUES (1, 1, 1, :at)"
            ),
            {"at": at},
        )
    downgrade(revision="0014")
    assert not POOL_TABLES & set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM proposals")).scalar() == 1


def _any_local_area_id() -> int:
    with db.engine.begin() as conn:
        found = conn.execute(text("SELECT id FROM local_areas ORDER BY id LIMIT 1")).scalar()
        if found is not None:
            return int(found)
        conn.execute(text("INSERT INTO local_areas (name) VALUES ('Løsning')"))
        return int(conn.execute(text("SELECT max(id) FROM local_areas")).scalar())


def test_0016_gives_everyone_no_structured_wish_and_no_declared_gender(empty_app):
    """Additive: a person from before keeps the free-text wish and has no structured wish (so
    nobody is filtered), a volunteer has not declared a gender; the database refuses an unknown
    gender and a requirement without a wish; down again, only the columns go."""
    upgrade(revision="0015")
    place = {"postcode": "7130", "town": "Juelsminde", "lat": 55.7, "lon": 10.0}
    with db.engine.begin() as conn:
        conn.execute(
            insert(_old(conn, "organisations")),
            {"id": 1, "name": "Kommune", "kind": "municipality"},
        )
        conn.execute(insert(_old(conn, "users")), {"id": 1, "email": "v@example.org", "name": "V"})
        conn.execute(insert(_old(conn, "volunteer_profiles")), {"id": 1, "user_id": 1, **place})
        conn.execute(
            insert(_old(conn, "persons")),
            {"id": 1, "organisation_id": 1, "name": "B", "volunteer_wish": "En kvinde", **place},
        )
    upgrade(revision="0016")
    assert _drift() == []
    with db.engine.begin() as conn:
        row = conn.execute(
            text("SELECT volunteer_wish, wish_gender, wish_required FROM persons")
        ).one()
        assert (row[0], row[1], bool(row[2])) == ("En kvinde", "", False)
        assert conn.execute(text("SELECT gender FROM volunteer_profiles")).scalar() == ""
        conn.execute(text("UPDATE persons SET wish_gender = 'woman', wish_required = true"))
        conn.execute(text("UPDATE volunteer_profiles SET gender = 'woman'"))
    for bad in (
        "UPDATE persons SET wish_gender = '', wish_required = true",
        "UPDATE persons SET wish_gender = 'robot'",
        "UPDATE volunteer_profiles SET gender = 'robot'",
    ):
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(bad))
    downgrade(revision="0015")
    persons = {c["name"] for c in inspect(db.engine).get_columns("persons")}
    profiles = {c["name"] for c in inspect(db.engine).get_columns("volunteer_profiles")}
    assert not {"wish_gender", "wish_required"} & persons and "gender" not in profiles
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT volunteer_wish FROM persons")).scalar() == "En kvinde"
