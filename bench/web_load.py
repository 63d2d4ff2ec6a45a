"""Scaling out: one gunicorn node against two, behind one load balancer, on PostgreSQL.

    python bench/web_load.py [--seconds 10] [--connections 32] [--workers 5] [--wait-quiet 120]

Seeds the data set of bench/web_needs.py (10,000 open needs, 5,000 volunteers) into a schema of
its own, starts two identical gunicorn nodes (the same sync worker count each) and drives the
pages with wrk on loopback in four set-ups per endpoint:

    1 node, direct        wrk → node A
    1 node, haproxy       wrk → haproxy → node A
    2 nodes, haproxy      wrk → haproxy → node A + node B (leastconn)
    2 nodes, wrk per node two wrk processes at once, half the connections each → A and B; summed

While wrk runs it samples /proc for the CPU time of wrk, haproxy, each node's process group,
all postgres processes and the whole machine, so the table says who had the cores (on a 2-core
box two nodes cannot double the throughput: the nodes, the database and the load generator
share the same two cores). Without haproxy (Debian: apt-get install haproxy) the haproxy rows
are skipped. Prints a table and writes bench/results/web_load.json. Needs `wrk`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from web_needs import (
    PG_URL,
    ROOT,
    WORKERS,
    WRK_SCRIPT,
    free_port,
    fresh_pg_schema,
    seed,
    serve,
    stop,
    wait_until_up,
)

RESULTS = ROOT / "bench" / "results" / "web_load.json"
PG_SCHEMA = "samskab_bench_load"
TICK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
SETUPS = ("1 node, direct", "1 node, haproxy", "2 nodes, haproxy", "2 nodes, wrk per node")
HEADER = (
    "set-up",
    "req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "err",
    "nodes",
    "pg",
    "wrk",
    "proxy",
    "other",
    "idle",
    "node ms/req",
)

HAPROXY_CFG = """
global
    maxconn 4000
    nbthread 1

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout queue 60s

frontend web
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance leastconn
{servers}
"""


# --- processes -------------------------------------------------------------------------------


def start_node(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    """One web node: `gunicorn app:app` with ``workers`` sync workers (as bench/web_needs.py)."""
    return serve("app:app", env, port, "/healthz", workers=workers, log=log)


def start_haproxy(port: int, backends: list[int], workers: int, workdir: Path) -> subprocess.Popen:
    # maxconn per server = its sync workers: haproxy queues the rest instead of the kernel.
    servers = "\n".join(
        f"    server node{i} 127.0.0.1:{backend} maxconn {workers}"
        for i, backend in enumerate(backends)
    )
    cfg = workdir / f"haproxy-{port}.cfg"
    cfg.write_text(HAPROXY_CFG.format(port=port, servers=servers))
    subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], check=True)
    log = workdir / f"haproxy-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until_up(process, f"http://127.0.0.1:{port}/healthz", log)
    return process


# --- CPU accounting from /proc ---------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(command, process group, utime + stime ticks) of one process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # After the command: state ppid pgrp session … utime (14th field overall) stime (15th).
    return comm, int(fields[2]), int(fields[11]) + int(fields[12])


def _machine() -> tuple[int, int]:
    """(busy, total) ticks of the whole machine from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal
    return total - idle, total


class CPU:
    """Snapshots of CPU ticks per group: the node process groups, wrk, haproxy, postgres."""

    def __init__(self, nodes: dict[str, int], wrk: list[int], proxies: list[int]) -> None:
        self.nodes, self.wrk, self.proxies = nodes, set(wrk), set(proxies)

    def snapshot(self) -> dict[str, float]:
        groups = {"nodes": 0, "postgres": 0, "wrk": 0, "proxy": 0}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            stat = _proc_stat(pid)
            if stat is None:
                continue
            comm, pgrp, ticks = stat
            if pgrp in self.nodes.values():
                groups["nodes"] += ticks
            elif pid in self.wrk:
                groups["wrk"] += ticks
            elif pid in self.proxies:
                groups["proxy"] += ticks
            elif comm == "postgres":
                groups["postgres"] += ticks
        busy, total = _machine()
        return {**groups, "busy": busy, "total": total, "t": time.monotonic()}

    @staticmethod
    def cores(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """Cores each group used between two snapshots; "other" is everything else running."""
        seconds = after["t"] - before["t"]
        used = {
            key: (after[key] - before[key]) / TICK / seconds
            for key in ("nodes", "postgres", "wrk", "proxy")
        }
        share_busy = (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"])
        used["machine"] = share_busy * CPUS
        used["other"] = max(
            0.0, used["machine"] - sum(used[k] for k in ("nodes", "postgres", "wrk", "proxy"))
        )
        used["idle"] = CPUS - used["machine"]
        return {key: round(value, 2) for key, value in used.items()}


# --- load ------------------------------------------------------------------------------------


def drive(
    targets: list[tuple[str, int]],
    seconds: int,
    script: Path,
    nodes: dict[str, int],
    proxies: list[int],
) -> dict:
    """Run one wrk per (url, connections) at the same time; sum their throughput; sample CPU."""
    threads = 2 if len(targets) == 1 else 1
    # Warm every worker (templates, statement caches, connection pools) before measuring: a
    # node's first requests are slower, and two nodes have twice as many workers to warm.
    warm = [
        subprocess.Popen(
            ["wrk", f"-t{threads}", f"-c{connections}", "-d3s", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for url, connections in targets
    ]
    for proc in warm:
        proc.wait(timeout=60)
    procs = [
        subprocess.Popen(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url, connections in targets
    ]
    cpu = CPU(nodes, [p.pid for p in procs], proxies)
    time.sleep(1)  # past the ramp-up
    before = cpu.snapshot()
    time.sleep(max(1.0, seconds - 2))
    after = cpu.snapshot()
    parts = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 60)
        match = re.search(r"SAMSKAB (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
        assert proc.returncode == 0 and match, out + err
        requests, duration_us, p50, p95, p99, errors = match.groups()
        parts.append(
            {
                "requests": int(requests),
                "rps": int(requests) / (int(duration_us) / 1e6),
                "p50_ms": float(p50),
                "p95_ms": float(p95),
                "p99_ms": float(p99),
                "errors": int(errors),
            }
        )
    total = sum(p["requests"] for p in parts)
    row = {
        "rps": sum(p["rps"] for p in parts),
        # Several wrk processes: their percentiles weighted by requests (an approximation).
        **{
            key: sum(p[key] * p["requests"] for p in parts) / max(1, total)
            for key in ("p50_ms", "p95_ms", "p99_ms")
        },
        "errors": sum(p["errors"] for p in parts),
        "cpu_cores": CPU.cores(before, after),
    }
    # CPU time the web nodes spent per request (ms): the same work costs more when the nodes'
    # workers outnumber the cores.
    row["node_cpu_ms_per_request"] = round(row["cpu_cores"]["nodes"] / row["rps"] * 1000, 2)
    if len(parts) > 1:
        row["per_wrk"] = parts
    return row


def drop_schema() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()


def loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def wait_quiet(limit_s: int, threshold: float = 0.5) -> dict[str, float | bool]:
    """Wait up to ``limit_s`` for the 1-minute load average to fall below ``threshold``."""
    started = time.monotonic()
    while loadavg()[0] > threshold and time.monotonic() - started < limit_s:
        print(f"waiting for a quiet machine (load {loadavg()[0]:.2f})", flush=True)
        time.sleep(10)
    return {"waited_s": round(time.monotonic() - started), "quiet": loadavg()[0] <= threshold}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=WORKERS, help="sync workers per node")
    parser.add_argument(
        "--wait-quiet", type=int, default=0, help="wait up to S s for 1-min load < 0.5 first"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        print("haproxy is not installed (Debian: apt-get install haproxy): its rows are skipped")
    workdir = Path(tempfile.mkdtemp(prefix="samskab-web-load-"))
    script = workdir / "report.lua"
    script.write_text(WRK_SCRIPT)

    url = fresh_pg_schema(PG_SCHEMA)
    started = time.perf_counter()
    info = seed(url)
    print(
        f"seeded {info['needs']} needs, {info['occurrences']} occurrences "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    quiet = wait_quiet(args.wait_quiet) if args.wait_quiet else {}
    env = dict(
        os.environ,
        SAMSKAB_ENV="production",
        SAMSKAB_SECRET_KEY="bench-" + "x" * 40,
        SAMSKAB_DATABASE_URL=url,
    )
    endpoints = {
        "need page, fresh render": (f"/opgaver/{info['sample_need']}", "0"),
        "needs list (activity filter), fresh render": ("/opgaver/?aktivitet=spisevenner", "0"),
        "need page, anonymous page cache": (f"/opgaver/{info['sample_need']}", "30"),
    }
    load_before = loadavg()
    results: dict[str, dict] = {}
    try:
        for name, (path, cache_s) in endpoints.items():
            node_env = dict(env, SAMSKAB_ANONYMOUS_PAGE_CACHE_S=cache_s)
            ports = {"a": free_port(), "b": free_port()}
            running: list[subprocess.Popen] = []
            try:
                nodes = {}
                for key, port in ports.items():
                    node = start_node(node_env, port, args.workers, workdir / f"node-{key}.log")
                    running.append(node)
                    nodes[key] = node.pid
                proxies = {}
                if haproxy:
                    for key, backends in (("one", [ports["a"]]), ("two", list(ports.values()))):
                        port = free_port()
                        proxy = start_haproxy(port, backends, args.workers, workdir)
                        running.append(proxy)
                        proxies[key] = (port, proxy.pid)
                c = args.connections
                node_url = {k: f"http://127.0.0.1:{p}{path}" for k, p in ports.items()}
                plans: dict[str, tuple[list[tuple[str, int]], list[int]]] = {
                    "1 node, direct": ([(node_url["a"], c)], []),
                    "2 nodes, wrk per node": (
                        [(node_url["a"], c // 2), (node_url["b"], c // 2)],
                        [],
                    ),
                }
                for key, label in (("one", "1 node, haproxy"), ("two", "2 nodes, haproxy")):
                    if key in proxies:
                        port, pid = proxies[key]
                        plans[label] = ([(f"http://127.0.0.1:{port}{path}", c)], [pid])
                rows = {}
                for setup in SETUPS:
                    if setup not in plans:
                        continue
                    targets, proxy_pids = plans[setup]
                    rows[setup] = drive(targets, args.seconds, script, nodes, proxy_pids)
                    print(f"  {name} / {setup}: {rows[setup]['rps']:.0f} req/s", flush=True)
                results[name] = {"rows": rows, "ratios": ratios(rows)}
            finally:
                for process in reversed(running):
                    stop(process)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        drop_schema()
    load_after = loadavg()
    report(results, args, load_before, load_after)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(),
                "cpus": CPUS,
                "loadavg_before": load_before,
                "loadavg_after": load_after,
                "wait_quiet": quiet,
                "workers_per_node": args.workers,
                "worker_class": "sync",
                "connections": args.connections,
                "seconds": args.seconds,
                "load_balancer": "haproxy " + _haproxy_version() if haproxy else None,
                "database": "postgresql",
                "sample_need": info["sample_need"],
                "results": results,
                "cpu_note": (
                    "cpu_cores: cores used while wrk ran, from /proc: nodes = both gunicorn "
                    "process groups, postgres = every postgres process on the machine, other = "
                    "the rest of the machine (other users' work too), idle = cores left"
                ),
            },
            indent=2,
        )
    )
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


def ratios(rows: dict[str, dict]) -> dict[str, float]:
    out = {}
    if "1 node, haproxy" in rows and "2 nodes, haproxy" in rows:
        out["two_over_one_haproxy"] = (
            rows["2 nodes, haproxy"]["rps"] / rows["1 node, haproxy"]["rps"]
        )
    out["two_over_one_direct"] = (
        rows["2 nodes, wrk per node"]["rps"] / rows["1 node, direct"]["rps"]
    )
    return {k: round(v, 3) for k, v in out.items()}


def _haproxy_version() -> str:
    out = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout
    match = re.search(r"version (\S+)", out)
    return match.group(1) if match else "?"


def report(
    results: dict, args: argparse.Namespace, before: list[float], after: list[float]
) -> None:
    print(
        f"\nPostgreSQL; {args.workers} sync workers per node; wrk {args.connections} connections, "
        f"{args.seconds} s; {CPUS} CPUs; load average before {before[0]:.2f}, after {after[0]:.2f}"
    )
    print(
        "CPU columns: cores used while wrk ran (nodes = both gunicorn nodes; idle = cores left);"
        " node ms/req = the nodes' CPU time per request"
    )
    fmt = "{:<24} {:>7} {:>7} {:>7} {:>7} {:>4} {:>6} {:>5} {:>5} {:>6} {:>6} {:>5} {:>11}"
    for name, result in results.items():
        print(f"\n{name}")
        print(fmt.format(*HEADER))
        for setup, r in result["rows"].items():
            cpu = r["cpu_cores"]
            print(
                fmt.format(
                    setup,
                    f"{r['rps']:.0f}",
                    f"{r['p50_ms']:.1f}",
                    f"{r['p95_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    r["errors"],
                    f"{cpu['nodes']:.2f}",
                    f"{cpu['postgres']:.2f}",
                    f"{cpu['wrk']:.2f}",
                    f"{cpu['proxy']:.2f}",
                    f"{cpu['other']:.2f}",
                    f"{cpu['idle']:.2f}",
                    f"{r['node_cpu_ms_per_request']:.2f}",
                )
            )
        print("ratios: " + ", ".join(f"{k} {v:.2f}×" for k, v in result["ratios"].items()))


if __name__ == "__main__":
    main()
