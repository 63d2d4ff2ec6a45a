"""Where a logged-in request to the needs pages spends its time: a per-request breakdown.

    python bench/profile_pages.py [--backend sqlite|postgresql] [--needs 10000] [--requests 30]

Seeds the same data as bench/web_needs.py (one size), then serves each page in-process through
Flask's test client as the demo volunteer (and coordinator), with the anonymous page cache off,
under cProfile. Prints, per page: SQL statements per request, milliseconds per request, and the
time split by where it is spent (self time, grouped by package), plus the cumulative time of a
few key functions. ``--explain`` prints the query plans of the list queries.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_needs import (  # noqa: E402
    USER_AGENT,
    fresh_pg_schema,
    seed,
    session_cookie,
)

# Self time is put in the first group whose marker occurs in the function's file name.
GROUPS = (
    ("SQL driver (sqlite3/psycopg)", ("sqlite3", "psycopg", "{method 'execute'", "{method 'fetch")),
    ("SQLAlchemy ORM (loading, identity map)", ("sqlalchemy/orm",)),
    ("SQLAlchemy Core (compile, execute, rows)", ("sqlalchemy",)),
    ("Jinja (templates)", ("jinja2", "<template>", "templates/")),
    ("Babel (formatting, gettext)", ("babel", "flask_babel", "gettext")),
    ("WTForms", ("wtforms", "flask_wtf")),
    ("login/session (flask_login, itsdangerous)", ("flask_login", "itsdangerous", "hashlib")),
    ("matching (MILP: SciPy HiGHS, numpy)", ("matching/", "scipy", "numpy")),
    ("Werkzeug/Flask", ("werkzeug", "flask/")),
    ("Samskab code", ("volunteer/",)),
)
KEY_FUNCTIONS = (
    ("render_template (all Jinja)", "flask/templating.py", "render_template"),
    ("Session.execute (SQL + ORM)", "sqlalchemy/orm/session.py", "execute"),
    ("ORM object loading", "sqlalchemy/orm/loading.py", "instances"),
    ("user loader (login)", "volunteer/auth/loader.py", "load_user"),
    ("form validate", "wtforms/form.py", "validate"),
    ("matching.solve (MILP)", "matching/", "solve"),
    ("eligibility.suggestions", "volunteer/needs/eligibility.py", "suggestions"),
)


def group_of(filename: str, function: str) -> str:
    where = f"{filename} {function}"
    for name, markers in GROUPS:
        if any(marker in where for marker in markers):
            return name
    return "other (stdlib, ...)"


def pages(info: dict) -> dict[str, tuple[str, str]]:
    need = info["sample_need"]
    return {
        "needs list (activity filter)": ("volunteer", "/opgaver/?aktivitet=spisevenner"),
        "needs list (near 7130, 10 km)": ("volunteer", "/opgaver/?postnummer=7130&km=10"),
        "need page": ("volunteer", f"/opgaver/{need}"),
        "need page (coordinator)": ("coordinator", f"/opgaver/{need}"),
        "Min side": ("volunteer", "/min-side/"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--top", type=int, default=0, help="also print the N slowest functions")
    parser.add_argument("--only", help="only the pages whose name contains this")
    parser.add_argument("--reuse", help="an already seeded database URL (skips seeding)")
    args = parser.parse_args()

    from sqlalchemy import event

    from volunteer import create_app
    from volunteer.extensions import db

    if args.reuse:
        url = args.reuse
    elif args.backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='samskab-prof-')) / 'bench.db'}"
    else:
        url = fresh_pg_schema("samskab_profile")
    info = seed(url, needs=args.needs) if not args.reuse else None
    app = create_app(
        {
            "SAMSKAB_ENV": "production",
            "SECRET_KEY": "bench-" + "x" * 40,
            "SQLALCHEMY_DATABASE_URI": url,
            "ANONYMOUS_PAGE_CACHE_S": 0,
            "RATELIMIT_ENABLED": False,
        }
    )
    if info is None:
        sys.exit("--reuse is for --explain runs only")
    statements: list[tuple[str, object]] = []
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, params, *_: statements.append((sql, params)),
        )
    client = app.test_client(use_cookies=False)
    cookies = {role: session_cookie(app, token) for role, token in info["tokens"].items()}
    print(f"{args.backend}, {info['needs']} needs, {args.requests} requests per page")
    for name, (role, path) in pages(info).items():
        if args.only and args.only not in name:
            continue
        headers = {"Cookie": cookies[role], "User-Agent": USER_AGENT}
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        assert "Set-Cookie" not in response.headers, "the session would be rewritten"
        statements.clear()
        client.get(path, headers=headers)
        queries = list(statements)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            client.get(path, headers=headers)
        profiler.disable()
        per_request = (time.perf_counter() - started) * 1000 / args.requests
        stats = pstats.Stats(profiler)
        groups: dict[str, float] = defaultdict(float)
        for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            groups[group_of(filename, function)] += tottime
        total = sum(groups.values())
        print(f"\n## {name} ({role}): {path}")
        print(f"{len(queries)} SQL statements, {per_request:.1f} ms/request (under cProfile)")
        for group, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
            share = seconds / total * 100
            print(f"  {group:<46} {seconds * 1000 / args.requests:>7.2f} ms  {share:>5.1f} %")
        print("  cumulative:")
        for label, file_marker, function in KEY_FUNCTIONS:
            cumulative = sum(
                ct
                for (filename, _l, fn), (_cc, _nc, _tt, ct, _c) in stats.stats.items()  # type: ignore[attr-defined]
                if file_marker in filename and fn == function
            )
            if cumulative:
                print(f"    {label:<44} {cumulative * 1000 / args.requests:>7.2f} ms")
        if args.top:
            print("  slowest functions (cumulative):")
            stats.sort_stats("cumulative").print_stats(args.top)
        if args.explain:
            _explain(app, queries)


def _explain(app, queries: list[tuple[str, object]]) -> None:  # type: ignore[no-untyped-def]
    """Each statement of the page with its plan, asked of the database with the same
    parameters (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL)."""
    from volunteer.extensions import db

    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
        with db.engine.connect() as conn:
            for sql, params in queries:
                print("    SQL:", " ".join(sql.split())[:400])
                rows = conn.exec_driver_sql(prefix + sql, params).all()  # type: ignore[arg-type]
                for row in rows:
                    print("      ", row[-1] if sqlite else row[0])


if __name__ == "__main__":
    main()
