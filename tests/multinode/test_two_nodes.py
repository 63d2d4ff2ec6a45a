"""Beyond one machine: two web nodes and two schedulers on one PostgreSQL database and Redis.

The cluster (conftest.py) runs, on loopback, two `gunicorn app:app` nodes (2 gthread workers
× 4 threads each) and two `flask --app app scheduler run` processes (through fast_scheduler.py:
the same command with the reminder and outbox intervals and the outbox claim shortened), in
production mode with one shared secret key, as if behind one TLS proxy (SAMSKAB_PROXY_HOPS=1;
the client sends the proxy's X-Forwarded-For/-Proto/-Host). Checked here:

* 200 volunteers sign up at the same moment, half through each node (each logged in through
  the other node): no need is overbooked, the first to commit get the places, the waiting list
  is in commit order and everyone is told their true place on it;
* the login throttle counts in Redis, so attempts alternated between the nodes are refused
  from the 11th on, whichever node gets it;
* with one scheduler active and the other standing by, every due visit's reminder reaches the
  SMTP server exactly once, even though the leader is SIGKILLed with a message in flight and
  the standby takes over and finishes.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from multinode_support import PASSWORD, SIGNUP_SLOTS, Browser, Cluster, instance, wait_for
from sqlalchemy import insert, select

from volunteer.extensions import db
from volunteer.models import Assignment, Occurrence, Visit
from volunteer.needs.signup import waitlist_position

ACCEPTED, WAITLISTED = "accepted", "waitlisted"


def _flashes(cluster: Cluster, browser: Browser) -> list[tuple[str, str]]:
    """The messages waiting in the visitor's session cookie (signed with the shared key)."""
    serializer = cluster.app.session_interface.get_signing_serializer(cluster.app)
    session = serializer.loads(browser.cookies["session"])
    return [(category, message) for category, message in session.get("_flashes", [])]


def _errors(html: str) -> list[str]:
    """The form errors and alerts on a page (for failure messages)."""
    return re.findall(r'class="(?:invalid-feedback|alert[^"]*)"[^>]*>\s*([^<]+)', html)


def _outcome(flashes: list[tuple[str, str]]) -> tuple[str, int | None]:
    """What the volunteer was told: accepted, or waitlisted as number N."""
    for category, message in flashes:
        if category == "success":
            return ACCEPTED, None
        number = re.search(r"\d+", message)
        if category == "info" and number:
            return WAITLISTED, int(number.group())
    raise AssertionError(f"neither accepted nor waitlisted: {flashes}")


@dataclass
class Signups:
    told: dict[int, tuple[int, int, str, int | None]]  # user → (need, node, outcome, place)
    seconds: float


@pytest.fixture(scope="module")
def signups(cluster: Cluster) -> Signups:
    """200 volunteers log in and then sign up at the same moment, half through each node."""
    needs, users, ports = cluster.ids["signup_needs"], cluster.ids["users"], cluster.ports
    barrier = threading.Barrier(len(users))
    told: dict[int, tuple[int, int, str, int | None]] = {}
    problems: list[str] = []

    def volunteer(i: int) -> None:
        user_id, email = users[i]
        need_id = needs[i % len(needs)]
        here, there = (ports[0], ports[1]) if i % 2 == 0 else (ports[1], ports[0])
        browser = Browser(cluster.client_ip(i))
        try:
            # The login form from one node, the login and the sign-up on the other: the session
            # and its CSRF token are valid on both (one secret key).
            reply = browser.login(here, there, email, PASSWORD)
            assert reply.status == 302, f"login {email}: {reply.status} {_errors(reply.body)}"
            token = Browser.csrf(browser.get(here, f"/opgaver/{need_id}"))
        except Exception as exc:
            problems.append(f"{email} before sign-up: {exc!r}")
            barrier.abort()
            return
        try:
            barrier.wait(timeout=120)  # everybody presses "sign up" at once
            reply = browser.post(there, f"/opgaver/{need_id}/tilmeld", {"csrf_token": token})
            assert reply.status == 302, f"sign-up {email}: {reply.status} {reply.body[:300]}"
            told[user_id] = (need_id, there, *_outcome(_flashes(cluster, browser)))
        except Exception as exc:
            problems.append(f"{email} sign-up: {exc!r}")

    started = time.monotonic()
    threads = [threading.Thread(target=volunteer, args=(i,)) for i in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    took = time.monotonic() - started
    cluster.check()
    assert not problems, "\n".join(problems[:10])
    assert len(told) == len(users)
    per_node = Counter(node for _, node, _, _ in told.values())
    print(f"200 logins + sign-ups in {took:.1f} s; sign-ups per node {dict(per_node)}")
    assert set(per_node.values()) == {len(users) // 2}
    return Signups(told, took)


def _assignments(need_id: int) -> list[Assignment]:
    """The need's assignments in id order. The id is drawn under the need's row lock, so this is
    the order in which the sign-ups took the lock and committed."""
    rows = db.session.scalars(
        select(Assignment).where(Assignment.need_id == need_id).order_by(Assignment.id)
    ).all()
    return list(rows)


def test_200_concurrent_signups_on_two_nodes_never_overbook(cluster, signups):
    told = signups.told
    for need_id, slots in zip(cluster.ids["signup_needs"], SIGNUP_SLOTS, strict=True):
        rows = _assignments(need_id)
        signed = [u for u, (n, *_rest) in told.items() if n == need_id]
        assert sorted(a.volunteer_id for a in rows) == sorted(signed), "lost or doubled"
        held = [a for a in rows if a.state in ("accepted", "invited")]
        # No overbooking, and no place left empty while people wait.
        assert len(held) == slots, (need_id, len(held), slots)
        # The first `slots` to commit got a place, everyone after them waits.
        assert [a.state for a in rows] == [ACCEPTED] * slots + [WAITLISTED] * (len(rows) - slots)
        assert all(told[a.volunteer_id][2] == ACCEPTED for a in held)
        assert all(told[a.volunteer_id][2] == WAITLISTED for a in rows[slots:])
        status = cluster.scalar("SELECT status FROM needs WHERE id = :id", id=need_id)
        assert status == "filled"
        # Accepted volunteers have their three dates; nobody on the waiting list has any.
        visits = Counter(
            db.session.scalars(
                select(Visit.volunteer_id)
                .join(Visit.occurrence)
                .where(Occurrence.need_id == need_id)
            )
        )
        assert visits == {a.volunteer_id: 3 for a in held}
    db.session.rollback()


# This test found that the waiting list was ordered by the time a request read *before* it
# waited for the need's lock (two volunteers were told the same place); sign-ups now take a queue
# number under the lock (migration 0002).
def test_the_waiting_list_is_in_commit_order_and_everyone_is_told_their_place(cluster, signups):
    """Positions are 1..n in the order the sign-ups committed, the app's own order of the list
    (``waitlist_position``, which ``offer_next`` follows too) is that order, and the number each
    volunteer was told at sign-up is their place."""
    wrong: list[str] = []
    for need_id in cluster.ids["signup_needs"]:
        waiting = [a for a in _assignments(need_id) if a.state == WAITLISTED]
        app_places = [waitlist_position(a) for a in waiting]
        told_places = [signups.told[a.volunteer_id][3] for a in waiting]
        expected = list(range(1, len(waiting) + 1))
        for place, assignment, app_place, told_place in zip(
            expected, waiting, app_places, told_places, strict=True
        ):
            if app_place != place or told_place != place:
                wrong.append(
                    f"need {need_id}: assignment {assignment.id} committed as no. {place}, "
                    f"the app ranks it {app_place}, its volunteer was told {told_place} "
                    f"(queue number {assignment.queue_number})"
                )
        duplicates = sorted(p for p, n in Counter(told_places).items() if n > 1)
        if duplicates:
            wrong.append(f"need {need_id}: places told to two volunteers: {duplicates}")
    db.session.rollback()
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(wrong)


def test_the_login_throttle_is_shared_by_both_nodes_through_redis(cluster):
    ports = cluster.ports
    address = cluster.client_ip(0xFFFF)  # no sign-up used it
    browser = Browser(address)
    token = Browser.csrf(browser.get(ports[0], "/konto/log-ind"))
    _, email = cluster.ids["users"][0]
    replies = []
    for attempt in range(12):  # wrong passwords, node A, B, A, B …
        reply = browser.post(
            ports[attempt % 2],
            "/konto/log-ind",
            {"csrf_token": token, "email": email, "password": "forkert-adgangskode"},
        )
        replies.append(reply)
    statuses = [r.status for r in replies]
    remaining = [r.headers.get("X-RateLimit-Remaining") for r in replies[:10]]
    print(f"statuses {statuses}; remaining {remaining}")
    # LOGIN_RATE_LIMIT is 10 per minute per client: five tries on each node use it up.
    assert statuses == [200] * 10 + [429, 429]
    assert remaining == [str(n) for n in range(9, -1, -1)], "each node counted on its own"
    keys = list(cluster.redis.scan_iter(match=f"*{address}*"))
    assert keys, "no counter in Redis: the nodes fell back to their own memory"


def _due_visits(cluster: Cluster) -> set[int]:
    """Visits the 24-hour reminder is for now."""
    return {
        row[0]
        for row in cluster.rows(
            "SELECT v.id FROM visits v JOIN occurrences o ON o.id = v.occurrence_id "
            "WHERE v.state = 'scheduled' AND o.status = 'scheduled' "
            "AND o.starts_at > now() AND o.starts_at <= now() + interval '24 hours'"
        )
    }


def _reminders(cluster: Cluster) -> dict[int, tuple[int, str]]:
    """visit id → (outbox id, state) of its reminder."""
    found: dict[int, tuple[int, str]] = {}
    for outbox_id, key, state in cluster.rows(
        "SELECT id, dedup_key, state FROM outbox_messages WHERE dedup_key LIKE 'visit-reminder:%'"
    ):
        visit_id = int(key.split(":")[1])
        assert visit_id not in found, f"two reminders for visit {visit_id}"
        found[visit_id] = (outbox_id, state)
    return found


def _received(cluster: Cluster) -> Counter[int]:
    """outbox id → how many times the SMTP server accepted it (from the Message-ID)."""
    return Counter(
        int(re.fullmatch(r"<outbox-(\d+)@[^>]+>", mid).group(1))  # type: ignore[union-attr]
        for mid in cluster.sink.message_ids()
    )


def _all_delivered(cluster: Cluster) -> bool:
    due, reminders, received = _due_visits(cluster), _reminders(cluster), _received(cluster)
    return bool(due) and all(v in reminders and received[reminders[v][0]] for v in due)


def test_every_reminder_is_delivered_exactly_once_when_the_leader_dies_mid_batch(cluster, signups):
    leader, standby = cluster.schedulers
    beats = cluster.heartbeats()
    assert beats[instance(leader)] is True and beats[instance(standby)] is False
    # The sign-ups' visits start within hours: wait until their reminders are delivered, so the
    # next ones start from a quiet outbox.
    wait_for(lambda: _all_delivered(cluster), 30, "the sign-ups' reminders", cluster.check)

    # 150 more visits due, and the SMTP server holds its reply to the 40th message: the leader
    # has sent it and waits for the server's answer when it is killed.
    occurrence_id = cluster.ids["reminder_occurrence"]
    batch = [user_id for user_id, _ in cluster.ids["users"][:150]]
    cluster.sink.hold_after(39)
    before = len(cluster.sink.received)
    db.session.execute(
        insert(Visit),
        [{"occurrence_id": occurrence_id, "volunteer_id": u, "state": "scheduled"} for u in batch],
    )
    db.session.commit()
    assert cluster.sink.held.wait(timeout=30), "the leader sent no 40th reminder"
    beats = cluster.heartbeats()
    assert beats[instance(leader)] is True and beats[instance(standby)] is False
    delivered_by_leader = len(cluster.sink.received) - before
    pending = cluster.scalar(
        "SELECT count(*) FROM outbox_messages WHERE state = 'pending'"
        " AND dedup_key LIKE 'visit-reminder:%'"
    )
    leader.kill()  # SIGKILL, mid-batch, its claimed rows still claimed
    killed = time.monotonic()
    cluster.sink.release()  # the held message is refused: it was never delivered

    wait_for(
        lambda: cluster.heartbeats().get(instance(standby)) is True,
        15,
        "the standby takes over",
        cluster.check,
    )
    took_over = time.monotonic() - killed
    wait_for(lambda: _all_delivered(cluster), 45, "every reminder delivered", cluster.check)
    finished = time.monotonic() - killed
    time.sleep(3)  # a few more dispatch runs: nothing may arrive twice

    due, reminders, received = _due_visits(cluster), _reminders(cluster), _received(cluster)
    expected = len(batch) + sum(SIGNUP_SLOTS)
    print(
        f"leader delivered {delivered_by_leader} of the 150 before SIGKILL ({pending} pending); "
        f"standby active after {took_over:.1f} s, all {len(due)} delivered after {finished:.1f} s"
    )
    assert len(due) == expected
    assert set(reminders) == due, "a due visit has no reminder, or a reminder has no due visit"
    assert all(state == "sent" for _, state in reminders.values())
    assert {outbox_id for outbox_id, _ in reminders.values()} == set(received)
    duplicates = {outbox_id: n for outbox_id, n in received.items() if n != 1}
    assert not duplicates, f"delivered more than once: {duplicates}"
    assert delivered_by_leader == 39 and pending > 0, "the kill did not happen mid-batch"
    # The standby sent the rest, the held one and the leader's other claimed rows included
    # (once their claim ran out).
    assert len(cluster.sink.received) - before - delivered_by_leader == len(batch) - 39
    standby_log = standby.log_path.read_text()
    assert "waiting as a hot standby" in standby_log and "Scheduler lock acquired" in standby_log
    assert not leader.alive()


@pytest.fixture(autouse=True)
def _report_runtime(cluster, request):
    started = time.monotonic()
    yield
    print(f"  [{request.node.name}: {time.monotonic() - started:.1f} s; {cluster.notes}]")
