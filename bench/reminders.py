"""Reminder throughput: the visit_reminders job and outbox delivery, against bare smtplib.

    python bench/reminders.py [--visits 10000] [--backends sqlite,postgresql]

Seeds a fresh database per backend with VISITS scheduled visits (one per volunteer, five per
occurrence) that all start within the next 24 hours, then times, in one run:

* enqueue: the visit_reminders job (rendering text, HTML and .ics, inserting outbox rows);
* rerun: the same job again, which must create no message (exactly-once);
* dispatch: dispatch_outbox, run until the outbox is empty, delivering every message to a local
  aiosmtpd sink (its own process, on a free port on 127.0.0.1) with the app's default batch
  settings (OUTBOX_BATCH_SIZE messages per SMTP connection);
* baseline: a bare stdlib smtplib loop sending as many prebuilt EmailMessage objects of the
  same size (text, HTML and .ics taken from a real reminder) over one connection to that sink.

Prints a table and writes bench/results/reminders.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import smtplib
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "reminders.json"
PG_URL = os.environ.get(
    "SAMSKAB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "samskab_bench_reminders"
VISITS_PER_OCCURRENCE = 5
CENTRES = 20
POSTCODES = ("7130", "7140", "7160", "8722", "8762", "8781", "8783", "7171")
HEADER = ("phase", "messages", "seconds", "msg/s", "× baseline")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the SMTP sink: its own process, so it does not share the GIL with the sender -------------


class _CountingHandler:
    """Accepts everything; counts messages and bytes (no parsing: the sink must be cheap)."""

    def __init__(self, messages: Any, size: Any) -> None:
        self.messages = messages
        self.size = size

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.value += 1
        self.size.value += len(envelope.content)
        return "250 Message accepted for delivery"


def _run_sink(port: int, messages: Any, size: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_CountingHandler(messages, size), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.messages = context.Value("q", 0, lock=False)
        self.size = context.Value("q", 0, lock=False)
        self._ready, self._stop = context.Event(), context.Event()
        self.process = context.Process(
            target=_run_sink,
            args=(self.port, self.messages, self.size, self._ready, self._stop),
            daemon=True,
        )

    def __enter__(self) -> Sink:
        self.process.start()
        if not self._ready.wait(30):
            self.process.kill()
            raise RuntimeError("the aiosmtpd sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()

    def counts(self) -> tuple[int, int]:
        return self.messages.value, self.size.value


# --- seeding ------------------------------------------------------------------------------


def slots(now: datetime, count: int) -> list[datetime]:
    """``count`` start times (UTC) within the next 24 hours, at quarter hours between 08:00 and
    20:00 Copenhagen time, spread round-robin over the free quarter hours."""
    from volunteer.i18n import to_local

    first = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    candidates = [first + timedelta(minutes=15 * i) for i in range(4 * 22)]
    daytime = [
        t for t in candidates if 8 <= to_local(t).hour < 20 and t <= now + timedelta(hours=23)
    ]
    return [daytime[i % len(daytime)] for i in range(count)]


def seed(app: Any, visits: int, now: datetime) -> dict[str, int]:
    """A fresh schema, a few rows through the ORM, and the bulk through Core inserts."""
    from sqlalchemy import insert, select

    from volunteer import geo
    from volunteer.extensions import db
    from volunteer.i18n import to_local
    from volunteer.models import (
        ActivityType,
        Centre,
        Need,
        Occurrence,
        Organisation,
        User,
        Visit,
        VolunteerProfile,
    )

    occurrences = -(-visits // VISITS_PER_OCCURRENCE)
    places = [geo.lookup(code) for code in POSTCODES]
    stamp = datetime.now(UTC)
    with app.app_context():
        db.drop_all()
        db.create_all()
        org = Organisation(name="Hedensted Kommune", kind="municipality")
        activity = ActivityType(code="spiseven", name_da="Spiseven", name_en="Meal friend")
        centres = [
            Centre(
                name=f"Plejecenter {i}",
                kind="plejecenter",
                address=f"Centervej {i}",
                postcode=place.code,
                town=place.town,
                lat=place.lat,
                lon=place.lon,
                organisation=org,
            )
            for i, place in ((i, places[i % len(places)]) for i in range(CENTRES))
        ]
        db.session.add_all([org, activity, *centres])
        db.session.commit()
        centre_ids = [c.id for c in centres]

        users = [
            {
                "email": f"frivillig{i}@example.org",
                "name": f"Frivillig Nummer{i}",
                "role": "volunteer",
                "locale": "en" if i % 10 == 0 else "da",
                "active": True,
                "session_token": f"bench-{i:08d}",
                "created_at": stamp,
            }
            for i in range(visits)
        ]
        db.session.execute(insert(User), users)
        user_ids = list(
            db.session.scalars(
                select(User.id).where(User.email.like("frivillig%")).order_by(User.id)
            )
        )
        profiles = []
        for i, user_id in enumerate(user_ids):
            place = places[i % len(places)]
            profiles.append(
                {
                    "user_id": user_id,
                    "postcode": place.code,
                    "town": place.town,
                    "lat": place.lat,
                    "lon": place.lon,
                    "languages": ["da"],
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        db.session.execute(insert(VolunteerProfile), profiles)

        starts = slots(now, occurrences)
        needs = []
        for i, start in enumerate(starts):
            local = to_local(start)
            place = places[i % len(places)]
            needs.append(
                {
                    "organisation_id": org.id,
                    # Half at a centre (the place is the centre), half at an address.
                    "centre_id": centre_ids[i % CENTRES] if i % 2 == 0 else None,
                    "activity_type_id": activity.id,
                    "title": f"Spiseven {i}",
                    "description": "Hjælp til en hyggelig stund med en ældre borger.",
                    "address": f"Byvej {i % 90 + 1}",
                    "postcode": place.code,
                    "town": place.town,
                    "lat": place.lat,
                    "lon": place.lon,
                    "schedule": "once",
                    "weekday": local.weekday(),
                    "start_time": local.time(),
                    "end_time": (local + timedelta(hours=2)).time(),
                    "first_date": local.date(),
                    "skip_holidays": True,
                    "slots": VISITS_PER_OCCURRENCE,
                    "requires_child_certificate": False,
                    "languages": [],
                    "status": "open",
                    "next_starts_at": start,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        db.session.execute(insert(Need), needs)
        need_ids = list(db.session.scalars(select(Need.id).order_by(Need.id)))
        db.session.execute(
            insert(Occurrence),
            [
                {
                    "need_id": need_id,
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=2),
                    "status": "scheduled",
                }
                for need_id, start in zip(need_ids, starts, strict=True)
            ],
        )
        occurrence_ids = list(db.session.scalars(select(Occurrence.id).order_by(Occurrence.id)))
        db.session.execute(
            insert(Visit),
            [
                {
                    "occurrence_id": occurrence_ids[i // VISITS_PER_OCCURRENCE],
                    "volunteer_id": user_id,
                    "state": "scheduled",
                    "created_at": stamp,
                }
                for i, user_id in enumerate(user_ids)
            ],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
    return {"volunteers": len(user_ids), "occurrences": len(occurrence_ids), "visits": visits}


# --- the phases -----------------------------------------------------------------------------


def outbox_counts(app: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from volunteer.extensions import db
    from volunteer.models import OutboxMessage

    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        ).all()
        return {state: count for state, count in rows}


def baseline_messages(app: Any, count: int) -> list[EmailMessage]:
    """Stdlib messages shaped like the reminders: text, HTML alternative, .ics attachment."""
    from sqlalchemy import select

    from volunteer.extensions import db
    from volunteer.models import OutboxMessage

    with app.app_context():
        sample = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert sample is not None and sample.ics and sample.body_html
        subject, text, html, ics = sample.subject, sample.body_text, sample.body_html, sample.ics
    messages = []
    for i in range(count):
        message = EmailMessage()
        message["From"] = "Samskab <noreply@samskab.example.org>"
        message["To"] = f"frivillig{i}@example.org"
        message["Subject"] = subject
        message["Message-ID"] = f"<baseline-{i}@samskab.example.org>"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        message.add_attachment(
            ics, subtype="calendar", filename="samskab.ics", params={"method": "PUBLISH"}
        )
        messages.append(message)
    return messages


def smtplib_loop(port: int, messages: list[EmailMessage]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        for message in messages:
            connection.send_message(message)
    return time.perf_counter() - started


def run_backend(backend: str, url: str, visits: int) -> dict[str, Any]:
    from volunteer import create_app
    from volunteer.extensions import db
    from volunteer.scheduler import run_job

    now = datetime.now(UTC)
    rows: dict[str, dict[str, Any]] = {}
    with Sink() as sink:
        app = create_app(
            {
                "SAMSKAB_ENV": "testing",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": url,
                "SITE_URL": "https://samskab.hedensted.example",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": sink.port,
            }
        )
        started = time.perf_counter()
        info = seed(app, visits, now)
        seed_s = time.perf_counter() - started
        print(f"[{backend}] seeded {visits} visits in {seed_s:.1f} s", flush=True)

        started = time.perf_counter()
        first = run_job(app, "visit_reminders", now)
        enqueue_s = time.perf_counter() - started
        created = sum(first.values())
        assert created == visits, (first, visits)
        assert outbox_counts(app) == {"pending": visits}

        started = time.perf_counter()
        second = run_job(app, "visit_reminders", now)
        rerun_s = time.perf_counter() - started
        rerun_created = sum(second.values())
        assert outbox_counts(app) == {"pending": visits}

        # As the scheduler would: dispatch_outbox again and again until nothing is due.
        runs = sent = 0
        started = time.perf_counter()
        while True:
            summary = run_job(app, "dispatch_outbox")
            runs += 1
            sent += summary["sent"]
            if not summary["claimed"] or summary["connection_errors"]:
                break
        dispatch_s = time.perf_counter() - started
        received, received_bytes = sink.counts()
        assert sent == visits and received == visits, (sent, received, visits)
        assert outbox_counts(app) == {"sent": visits}

        prebuilt = baseline_messages(app, visits)
        baseline_s = smtplib_loop(sink.port, prebuilt)
        total, total_bytes = sink.counts()
        assert total - received == visits
        with app.app_context():
            db.engine.dispose()

    rows["baseline: smtplib loop, 1 connection"] = {"messages": visits, "seconds": baseline_s}
    rows["enqueue: visit_reminders (render + .ics)"] = {"messages": created, "seconds": enqueue_s}
    rows["rerun: visit_reminders (exactly-once)"] = {
        "messages": rerun_created,
        "seconds": rerun_s,
    }
    rows["dispatch: dispatch_outbox → aiosmtpd"] = {"messages": sent, "seconds": dispatch_s}
    base = visits / baseline_s
    for row in rows.values():
        row["msg_per_s"] = row["messages"] / row["seconds"] if row["messages"] else None
        row["vs_baseline"] = row["msg_per_s"] / base if row["msg_per_s"] else None
    return {
        **info,
        "seed_seconds": seed_s,
        "dispatch_runs": runs,
        "outbox_batch_size": app.config["OUTBOX_BATCH_SIZE"],
        "outbox_max_batches_per_run": app.config["OUTBOX_MAX_BATCHES_PER_RUN"],
        "avg_bytes_dispatch": received_bytes / received,
        "avg_bytes_baseline": (total_bytes - received_bytes) / visits,
        "rerun_created": rerun_created,
        "rows": rows,
    }


def print_table(backend: str, result: dict[str, Any]) -> None:
    print(
        f"\n{backend}: {result['visits']} visits, {result['occurrences']} occurrences; dispatch in "
        f"{result['dispatch_runs']} runs of ≤{result['outbox_max_batches_per_run']} batches of "
        f"{result['outbox_batch_size']} (one SMTP connection per batch); message size "
        f"{result['avg_bytes_dispatch']:.0f} B (app) / {result['avg_bytes_baseline']:.0f} B "
        "(baseline)"
    )
    print("{:<42} {:>9} {:>9} {:>9} {:>11}".format(*HEADER))
    for name, r in result["rows"].items():
        rate = f"{r['msg_per_s']:.0f}" if r["msg_per_s"] else "–"
        ratio = f"{r['vs_baseline']:.3f}" if r["vs_baseline"] else "–"
        print(f"{name:<42} {r['messages']:>9} {r['seconds']:>9.2f} {rate:>9} {ratio:>11}")


def database_url(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    if backend != "postgresql":
        sys.exit(f"unknown backend {backend!r} (sqlite or postgresql)")
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{PG_SCHEMA}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="samskab-bench-") as workdir:
            url = database_url(backend, Path(workdir))
            results[backend] = run_backend(backend, url, args.visits)
        print_table(backend, results[backend])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(),
                "python": sys.version.split()[0],
                "visits": args.visits,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
