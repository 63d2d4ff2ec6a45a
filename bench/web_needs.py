"""Load benchmark of the needs pages, served by gunicorn, against a bare Flask "hello".

    python bench/web_needs.py [--backends sqlite,postgresql] [--sizes 1000,10000,50000]
                              [--seconds 10] [--connections 32]

For each backend and size, seeds that many open needs (with 8 weeks of occurrences) and up to
5,000 volunteers into a fresh database, starts gunicorn on 127.0.0.1 with the same settings for
the app and for the hello baseline, and drives each page with wrk on loopback as the logged-in
demo volunteer (a signed session cookie), with the anonymous page cache off: the needs list
(activity filter), the near-postcode list, a need page and "Min side". Prints the table of
issue #16 (req/s as a share of hello's, p99, target met) and writes
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "web_needs.json"
PG_URL = os.environ.get(
    "SAMSKAB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "samskab_bench"
NEEDS, VOLUNTEERS, WEEKS = 10_000, 5_000, 8
SIZES = (1_000, 10_000, 50_000)
WORKERS = 2 * (os.cpu_count() or 1) + 1
KINDS = ("Spiseven", "Besøgsven", "Lektiehjælp", "Gåtur", "Stolegymnastik")
# The demo accounts the benchmark logs in as (by a signed session cookie, as a browser would).
LOGINS = {"volunteer": "frivillig@example.org", "coordinator": "koordinator@example.org"}

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


def seed(url: str, needs: int = NEEDS, volunteers: int = VOLUNTEERS) -> dict[str, Any]:
    """Create the schema and bulk-insert ``needs`` open needs (with ``WEEKS`` weeks of
    occurrences) and ``volunteers`` volunteers (Core inserts: seconds, not minutes)."""
    from sqlalchemy import insert, select, update

    from volunteer import create_app, demo, geo
    from volunteer.auth.models import User
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
        demo.seed(volunteers=volunteers)
        org_id = db.session.scalar(select(Organisation.id))
        activities = list(db.session.scalars(select(ActivityType.id)))
        areas = {a.postcode: a.id for a in db.session.scalars(select(LocalArea))}
        codes = [p.code for p in geo.postcodes().values() if p.kommune == "Hedensted Kommune"]
        today = date.today()
        rows = []
        for i in range(needs):
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
        tokens = dict(
            db.session.execute(
                select(User.email, User.session_token).where(User.email.in_(LOGINS.values()))
            ).all()
        )
        db.engine.dispose()
    return {
        "needs": len(need_rows),
        "occurrences": len(occurrences),
        "sample_need": sample_need,
        "tokens": {role: tokens[email] for role, email in LOGINS.items()},
    }


USER_AGENT = "samskab-bench"


def session_cookie(app: Any, token: str) -> str:
    """A signed session cookie (``name=value``) for the user with session ``token``, as the app
    sets it after a login from 127.0.0.1 with ``USER_AGENT`` (so no request rewrites it)."""
    import secrets

    from flask_login.utils import _create_identifier

    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
    ):
        identifier = _create_identifier()
    value = app.session_interface.get_signing_serializer(app).dumps(
        {
            "_user_id": token,
            "_fresh": True,
            "_id": identifier,
            "csrf_token": secrets.token_hex(20),
        }
    )
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


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


def load(
    url: str, seconds: int, connections: int, script: Path, headers: dict[str, str]
) -> dict[str, float]:
    with_headers = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    for _ in range(WORKERS * 2):  # warm the workers
        subprocess.run(["curl", "-s", "-o", "/dev/null", *with_headers, url], check=False)
    out = subprocess.run(
        [
            "wrk",
            *with_headers,
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


# The targets (#16): share of a bare Flask hello's req/s, logged in, cache off.
PAGES = (
    ("needs list (activity filter)", 0.25),
    ("near-postcode list (7130, 10 km)", 0.15),
    ("need page", 0.40),
    ("Min side", 0.20),
)
P99_TARGET_MS = 100.0


def paths(info: dict[str, Any]) -> dict[str, str]:
    return dict(
        zip(
            (name for name, _ in PAGES),
            (
                "/opgaver/?aktivitet=spisevenner",
                "/opgaver/?postnummer=7130&km=10",
                f"/opgaver/{info['sample_need']}",
                "/min-side/",
            ),
            strict=True,
        )
    )


def measure(
    backend: str, size: int, workdir: Path, args: argparse.Namespace, script: Path
) -> dict[str, Any]:
    """Seed ``size`` needs on ``backend``, then load hello and each page (as the logged-in
    demo volunteer, anonymous page cache off) with the same gunicorn and wrk settings."""
    from volunteer import create_app

    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{size}.db'}"
    else:
        url = fresh_pg_schema(PG_SCHEMA)
    started = time.perf_counter()
    info = seed(url, needs=size, volunteers=min(VOLUNTEERS, max(size // 2, 500)))
    print(
        f"[{backend}, {size} needs] seeded {info['needs']} needs, {info['occurrences']} "
        f"occurrences in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    secret = "bench-" + "x" * 40
    env = dict(
        os.environ,
        SAMSKAB_ENV="production",
        SAMSKAB_SECRET_KEY=secret,
        SAMSKAB_DATABASE_URL=url,
        SAMSKAB_ANONYMOUS_PAGE_CACHE_S="0",
    )
    app = create_app(
        {"SAMSKAB_ENV": "production", "SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url}
    )
    headers = {"Cookie": session_cookie(app, info["tokens"]["volunteer"]), "User-Agent": USER_AGENT}
    rows: dict[str, dict[str, float]] = {}
    port = free_port()
    hello = serve("bench.hello_app:app", env, port, "/hello")
    try:
        rows["hello (bare Flask)"] = load(
            f"http://127.0.0.1:{port}/hello", args.seconds, args.connections, script, headers
        )
    finally:
        stop(hello)
    port = free_port()
    web = serve("app:app", env, port, "/healthz", log=workdir / "gunicorn.log")
    try:
        for name, path in paths(info).items():
            url_ = f"http://127.0.0.1:{port}{path}"
            check_logged_in(url_, headers)
            rows[name] = load(url_, args.seconds, args.connections, script, headers)
    finally:
        stop(web)
    base = rows["hello (bare Flask)"]["rps"]
    for row in rows.values():
        row["vs_hello"] = row["rps"] / base
    return {"rows": rows, "needs": info["needs"], "occurrences": info["occurrences"]}


def check_logged_in(url: str, headers: dict[str, str]) -> None:
    """The page answers 200 to the volunteer's cookie (not a redirect to the login) and does not
    rewrite the session, so every request measured is a logged-in person's fresh page."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        assert response.status == 200 and "/konto/log-ind" not in response.url, url
        assert response.headers.get("Set-Cookie") is None, url
        assert "Log ud" in response.read().decode(), f"{url}: not logged in"


def print_table(results: dict[str, dict[int, dict[str, Any]]], connections: int) -> None:
    print(
        f"\nLogged in as a volunteer, anonymous page cache off; gunicorn {WORKERS} sync workers, "
        f"wrk {connections} connections. Targets (#16): share of hello's req/s, p99 < "
        f"{P99_TARGET_MS:.0f} ms."
    )
    header = ("backend", "needs", "page", "req/s", "× hello", "target", "p99 ms", "met")
    line = "{:<10} {:>6} {:<34} {:>7} {:>8} {:>7} {:>8} {:>4}"
    print(line.format(*header))
    for backend, sizes in results.items():
        for size, result in sizes.items():
            rows = result["rows"]
            hello = rows["hello (bare Flask)"]
            print(
                line.format(
                    backend,
                    size,
                    "hello (bare Flask)",
                    f"{hello['rps']:.0f}",
                    "1.00",
                    "",
                    f"{hello['p99_ms']:.1f}",
                    "",
                )
            )
            for name, target in PAGES:
                r = rows[name]
                met = r["vs_hello"] >= target and r["p99_ms"] < P99_TARGET_MS and not r["errors"]
                print(
                    line.format(
                        backend,
                        size,
                        name,
                        f"{r['rps']:.0f}",
                        f"{r['vs_hello']:.3f}",
                        f"{target:.2f}",
                        f"{r['p99_ms']:.1f}",
                        "yes" if met else "no",
                    )
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT)
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for backend in args.backends.split(","):
        results[backend] = {}
        for size in (int(s) for s in args.sizes.split(",")):
            workdir = Path(tempfile.mkdtemp(prefix="samskab-bench-"))
            try:
                results[backend][size] = measure(backend, size, workdir, args, script)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    print_table(results, args.connections)
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
