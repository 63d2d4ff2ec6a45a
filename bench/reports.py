"""Server time of the reports pages on 100,000 visits, against /healthz in the same run.

    python bench/reports.py [--backends sqlite,postgresql] [--runs 7] [--visits 100000]

Seeds a fresh database per backend (the demo data, 300 needs, a year of weekly occurrences and
the visits spread over them with realistic outcomes), then times requests through Flask's
in-process test client — the app's own time: routing, SQL, templates; no network, no server.
Each URL is requested once to warm up, then ``--runs`` times; the table shows the median and
the slowest run. Writes bench/results/reports.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

RESULTS = ROOT / "bench" / "results" / "reports.json"
PG_URL = os.environ.get(
    "SAMSKAB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "samskab_bench"
NEEDS = 300
VOLUNTEERS = 2_000
# Outcomes in roughly the shares a year of real use would have.
OUTCOMES = (("confirmed", 0.85), ("no_show", 0.06), ("cancelled", 0.06), ("scheduled", 0.03))
URLS = (
    ("healthz (baseline)", "/healthz"),
    ("reports, 12 months", "/rapporter/"),
    ("figures as CSV", "/rapporter/tal.csv"),
    ("figures as Excel", "/rapporter/tal.xlsx"),
    ("status for the committee", "/rapporter/status"),
)


def seed(url: str, visits: int) -> dict[str, int]:
    """Schema, demo data, then bulk Core inserts for needs, occurrences and visits."""
    from sqlalchemy import insert, select

    from volunteer import create_app, demo
    from volunteer.extensions import db
    from volunteer.models import (
        ActivityType,
        LocalArea,
        Need,
        Occurrence,
        Organisation,
        Role,
        User,
        Visit,
    )
    from volunteer.needs.services import local_to_utc

    app = create_app(
        {"SAMSKAB_ENV": "testing", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url}
    )
    rng = random.Random(100_000)
    now = datetime.now(UTC)
    today = now.date()
    with app.app_context():
        db.drop_all()
        db.create_all()
        demo.seed(volunteers=VOLUNTEERS)
        org_id = db.session.scalar(select(Organisation.id))
        activities = list(db.session.scalars(select(ActivityType.id)))
        areas = list(db.session.scalars(select(LocalArea.id)))
        volunteers = list(db.session.scalars(select(User.id).where(User.role == Role.VOLUNTEER)))
        needs = []
        for i in range(NEEDS):
            opened = now - timedelta(days=rng.randrange(400))
            needs.append(
                {
                    "organisation_id": org_id,
                    "activity_type_id": rng.choice(activities),
                    "local_area_id": rng.choice(areas + [None]),
                    "title": f"Bench {i}",
                    "postcode": "7130",
                    "town": "Juelsminde",
                    "lat": 55.7,
                    "lon": 10.0,
                    "schedule": "weekly",
                    "weekday": rng.randrange(7),
                    "start_time": dtime(14),
                    "end_time": dtime(16),
                    "first_date": today - timedelta(days=365),
                    "slots": 4,
                    "status": rng.choice(("open", "filled", "closed")),
                    "opened_at": opened,
                    "filled_at": opened + timedelta(days=9) if rng.random() < 0.6 else None,
                    "languages": [],
                    "created_at": opened,
                    "updated_at": opened,
                }
            )
        db.session.execute(insert(Need), needs)
        need_ids = list(db.session.scalars(select(Need.id).where(Need.title.like("Bench %"))))
        occurrences = []
        for need_id in need_ids:
            day = today - timedelta(days=364)
            while day <= today:
                start = local_to_utc(day, dtime(14))
                occurrences.append(
                    {
                        "need_id": need_id,
                        "starts_at": start,
                        "ends_at": start + timedelta(hours=2),
                        "status": "scheduled",
                    }
                )
                day += timedelta(days=7)
        db.session.execute(insert(Occurrence), occurrences)
        occurrence_ids = list(
            db.session.scalars(select(Occurrence.id).where(Occurrence.need_id.in_(need_ids)))
        )
        rows, per = [], -(-visits // len(occurrence_ids))
        states, weights = zip(*OUTCOMES, strict=True)
        for occurrence_id in occurrence_ids:
            for volunteer_id in rng.sample(volunteers, per):
                state = rng.choices(states, weights)[0]
                rows.append(
                    {
                        "occurrence_id": occurrence_id,
                        "volunteer_id": volunteer_id,
                        "state": state,
                        "hours": 2.0 if state == "confirmed" else None,
                        "created_at": now,
                    }
                )
                if len(rows) == visits:
                    break
            if len(rows) == visits:
                break
        for i in range(0, len(rows), 20_000):
            db.session.execute(insert(Visit), rows[i : i + 20_000])
        db.session.commit()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        return {"needs": len(need_ids), "occurrences": len(occurrence_ids), "visits": len(rows)}


def measure(url: str, runs: int) -> list[dict[str, object]]:
    import factories
    from volunteer import create_app
    from volunteer.extensions import db
    from volunteer.models import Role

    app = create_app(
        {
            "SAMSKAB_ENV": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        factories.user(role=Role.ADMIN, email="bench-admin@example.org")
        db.session.remove()
    # Requests run outside that context, each in its own, as they do in production.
    client = app.test_client()
    response = client.post(
        "/konto/log-ind",
        data={"email": "bench-admin@example.org", "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    results = []
    for name, path in URLS:
        assert client.get(path).status_code == 200, path
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        results.append(
            {
                "name": name,
                "path": path,
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
            }
        )
    with app.app_context():
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--visits", type=int, default=100_000)
    args = parser.parse_args()
    from support import ensure_pg_schema, pg_url_with_schema

    report: dict[str, object] = {"date": date.today().isoformat(), "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            else:
                ensure_pg_schema(PG_URL, PG_SCHEMA, fresh=True)
                url = pg_url_with_schema(PG_URL, PG_SCHEMA)
            started = time.perf_counter()
            counts = seed(url, args.visits)
            seeded = time.perf_counter() - started
            rows = measure(url, args.runs)
            baseline = rows[0]["median_ms"]
            print(f"\n{backend}: {counts} (seeded in {seeded:.0f} s), median of {args.runs}")
            print(f"{'page':<28}{'median ms':>10}{'max ms':>10}{'× healthz':>11}")
            for row in rows:
                ratio = row["median_ms"] / baseline if baseline else float("nan")  # type: ignore[operator]
                row["x_healthz"] = round(ratio, 1)
                print(f"{row['name']:<28}{row['median_ms']:>10}{row['max_ms']:>10}{ratio:>11.1f}")
            report[backend] = {"data": counts, "pages": rows}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
