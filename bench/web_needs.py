"""Load benchmark of the needs pages, served by gunicorn, against a bare Flask "hello".

    python bench/web_needs.py [--backends sqlite,postgresql] [--seconds 10] [--connections 32]

Seeds 10,000 open needs (with 8 weeks of occurrences) and 5,000 volunteers into a fresh
database per backend, starts gunicorn on 127.0.0.1 with the same settings for the app and for
the hello baseline, and drives each URL with wrk on loopback. Prints a table and writes
bench/results/web_needs.json. Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "web_needs.json"
PG_URL = os.environ.get(
    "SAMSKAB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "samskab_bench"
NEEDS, VOLUNTEERS, WEEKS = 10_000, 5_000, 8
WORKERS = 2 * (os.cpu_count() or 1) + 1
KINDS = ("Spiseven", "Besøgsven", "Lektiehjælp", "Gåtur", "Stolegymnastik")
HEADER = ("endpoint", "req/s", "× hello", "p50 ms", "p95 ms", "p99 ms", "errors")

# wrk prints these percentiles from its own histogram.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("SAMSKAB %d %d %.3f %.3f %.3f %.3f\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str) -> dict[str, int]:
    """Create the schema and bulk-insert the data set (Core inserts: seconds, not minutes)."""
    from sqlalchemy import insert, select, update

    from volunteer import create_app, demo, geo
    from volunteer.extensions import db
    from volunteer.models import ActivityType, LocalArea, Need, Occurrence, Organisation
    from volunteer.needs.services import local_to_utc

    app = create_app(
        {"SAMSKAB_ENV": "testing", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url}
    )
    rng = random.Random(10_000)
    with app.app_context():
        db.drop_all()
        db.create_all()
        demo.seed(volunteers=VOLUNTEERS)
        org_id = db.session.scalar(select(Organisation.id))
        activities = list(db.session.scalars(select(ActivityType.id)))
        areas = {a.postcode: a.id for a in db.session.scalars(select(LocalArea))}
        codes = [p.code for p in geo.postcodes().values() if p.kommune == "Hedensted Kommune"]
        today = date.today()
        rows = []
        for i in range(NEEDS):
            place = geo.lookup(rng.choice(codes))
            start = dtime(rng.choice([9, 10, 13, 14, 15, 16, 17]), rng.choice([0, 30]))
            rows.append(
                {
                    "organisation_id": org_id,
                    "activity_type_id": rng.choice(activities),
                    "local_area_id": areas.get(place.code),
                    "title": f"Opgave {i}: {rng.choice(KINDS)} i {place.town}",
                    "description": "Hjælp til en hyggelig stund med en ældre borger.",
                    "postcode": place.code,
                    "town": place.town,
                    "lat": place.lat + rng.uniform(-0.02, 0.02),
                    "lon": place.lon + rng.uniform(-0.03, 0.03),
                    "schedule": "weekly",
                    "weekday": rng.randrange(7),
                    "start_time": start,
                    "end_time": dtime(start.hour + 2, start.minute),
                    "first_date": today - timedelta(days=rng.randrange(30)),
                    "skip_holidays": True,
                    "slots": rng.randint(1, 4),
                    "requires_child_certificate": False,
                    "languages": [],
                    "status": "open",
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                }
            )
        db.session.execute(insert(Need), rows)
        db.session.commit()
        need_rows = db.session.execute(
            select(Need.id, Need.weekday, Need.start_time, Need.end_time).where(
                Need.title.like("Opgave %")
            )
        ).all()
        occurrences = []
        next_dates = []
        for need_id, weekday, start, end in need_rows:
            day = today + timedelta(days=(weekday - today.weekday()) % 7)
            next_dates.append({"id": need_id, "next_starts_at": local_to_utc(day, start)})
            for _ in range(WEEKS):
                occurrences.append(
                    {
                        "need_id": need_id,
                        "starts_at": local_to_utc(day, start),
                        "ends_at": local_to_utc(day, end),
                        "status": "scheduled",
                    }
                )
                day += timedelta(days=7)
        for i in range(0, len(occurrences), 20_000):
            db.session.execute(insert(Occurrence), occurrences[i : i + 20_000])
        db.session.execute(update(Need), next_dates)
        db.session.commit()
        # Planner statistics, as a maintained production database has them.
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        sample_need = need_rows[len(need_rows) // 2][0]
        db.engine.dispose()
    return {"needs": len(need_rows), "occurrences": len(occurrences), "sample_need": sample_need}


def serve(
    app_spec: str,
    env: dict[str, str],
    port: int,
    probe: str,
    workers: int = WORKERS,
    log: Path | None = None,
) -> subprocess.Popen:
    """`gunicorn APP_SPEC` with ``workers`` sync workers, in its own process group; returns
    once ``probe`` answers. Output goes to ``log`` when given."""
    out = log.open("a") if log else None
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app_spec,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
    finally:
        if out:
            out.close()
    wait_until_up(process, f"http://127.0.0.1:{port}{probe}", log)
    return process


def wait_until_up(process: subprocess.Popen, url: str, log: Path | None = None) -> None:
    """Wait (up to 60 s) until ``url`` answers; stop the process and say why if it does not."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    stop(process)
    tail = log.read_text()[-3000:] if log else ""
    raise RuntimeError(f"{url} did not come up\n{tail}")


def stop(process: subprocess.Popen) -> None:
    """Stop the process and its whole group (gunicorn's workers)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def load(url: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    subprocess.run(["curl", "-s", "-o", "/dev/null", url], check=False)  # warm the workers
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"SAMSKAB (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    assert match, out
    requests, duration_us, p50, p95, p99, errors = match.groups()
    return {
        "rps": int(requests) / (int(duration_us) / 1e6),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "errors": int(errors),
    }


def fresh_pg_schema(schema: str) -> str:
    """An empty schema of its own in the benchmark database; returns the URL that uses it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT)
    results: dict[str, dict] = {}
    for backend in args.backends.split(","):
        workdir = Path(tempfile.mkdtemp(prefix="samskab-bench-"))
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            url = fresh_pg_schema(PG_SCHEMA)
        started = time.perf_counter()
        info = seed(url)
        print(
            f"[{backend}] seeded {info['needs']} needs, {info['occurrences']} occurrences "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        env = dict(
            os.environ,
            SAMSKAB_ENV="production",
            SAMSKAB_SECRET_KEY="bench-" + "x" * 40,
            SAMSKAB_DATABASE_URL=url,
        )
        port = free_port()
        targets = {
            "needs list (activity filter, page 1)": "/opgaver/?aktivitet=spisevenner",
            "needs list (near 7130, 10 km, page 1)": "/opgaver/?postnummer=7130&km=10",
            "need page": f"/opgaver/{info['sample_need']}",
        }
        rows: dict[str, dict[str, float]] = {}
        hello = serve("bench.hello_app:app", env, port, "/hello")
        try:
            rows["hello (bare Flask)"] = load(
                f"http://127.0.0.1:{port}/hello", args.seconds, args.connections, script
            )
        finally:
            stop(hello)
        # Each page twice: rendered fresh every time (the cost of a logged-in visitor's page),
        # and as anonymous visitors get it, with the short public-page cache on.
        for label, cache_s in (("fresh render", "0"), ("anonymous, page cache", "30")):
            port = free_port()
            web = serve(
                "app:app", dict(env, SAMSKAB_ANONYMOUS_PAGE_CACHE_S=cache_s), port, "/healthz"
            )
            try:
                for name, path in targets.items():
                    rows[f"{name}, {label}"] = load(
                        f"http://127.0.0.1:{port}{path}", args.seconds, args.connections, script
                    )
            finally:
                stop(web)
        base = rows["hello (bare Flask)"]["rps"]
        for row in rows.values():
            row["vs_hello"] = row["rps"] / base
        results[backend] = {"rows": rows, **info}
        print(f"\n{backend}: gunicorn {WORKERS} sync workers, wrk {args.connections} connections")
        print("{:<62} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}".format(*HEADER))
        for name, r in rows.items():
            print(
                f"{name:<62} {r['rps']:>8.0f} {r['vs_hello']:>8.2f} {r['p50_ms']:>8.1f} "
                f"{r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7}"
            )
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(),
                "workers": WORKERS,
                "connections": args.connections,
                "seconds": args.seconds,
                "results": results,
            },
            indent=2,
        )
    )
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
