"""Work-order HTTP mixed workload with Locust: latency with thinking users, the saturation
throughput, and the memory of each web worker.

Run ``bench/gen_workorders.py --recreate`` first. This script, in one command:

1. brings the quality rollups of that database up to date (``rollups.refresh``, what the
   scheduler does in production) so the dashboard has figures to show;
2. starts the production server (``wuye serve`` = gunicorn, ``--workers`` sync workers)
   on it — or uses ``--url`` — and warms every worker (a worker imports the URLconf on
   its first request);
3. measures ``/healthz`` on the idle server (sequential requests);
4. runs Locust headless (``uv run --with locust==…``, not a project dependency) with
   ``bench/locust_workorders.py``: ``--users`` users (12 residents, 20 dispatchers,
   16 technicians, 2 managers per 50) for ``--warmup`` + ``--duration`` seconds, in one
   or both modes:
   - ``think``: residents, dispatchers and technicians wait ``--think`` seconds (default
     0.5–1.5) between two requests, managers ``--manager-think`` (5–15) between two
     dashboards — a busy office, about one request per user per second;
   - ``saturation``: no think time for residents, dispatchers and technicians (managers
     keep theirs): the most the server does with that many clients;
   while a probe thread sends ``GET /healthz`` four times a second (the queueing delay
   any request meets at that load), the load average is sampled every 5 s and the CPU
   used by the gunicorn workers, the PostgreSQL backends of the database, Locust and the
   rest of the machine is accounted;
5. reads Locust's CSV statistics (``bench/out/http_mixed_<mode>_stats.csv``) and prints
   per operation and overall: requests, failures, req/s, p50/p95/p99/max, and each p95
   over the ``/healthz`` p95 of the same run;
6. reads the resident and proportional memory of every gunicorn worker
   (``/proc/<pid>/status`` VmRSS, VmHWM; ``smaps_rollup`` Pss) after the runs.

Exit status 1 when a request failed (any non-2xx, or a resent submit not replayed), or
Locust failed. Targets (issue 8): think-mode p95 < 100 ms at 50 users; RSS < 200 MB per
worker; they are reported, not enforced.

    uv run python bench/http_mixed.py                        # both modes, 60 s each
    uv run python bench/http_mixed.py --mode think --duration 30
"""

import argparse
import csv
import datetime
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import http_workorders as hw  # noqa: E402

OUT_DIR = BENCH / "out"
LOCUST_SPEC = "locust==2.47.0"
PERSONAS = {"Resident": 12, "Dispatcher": 20, "Technician": 16, "Manager": 2}
ORDER = [
    "submit",
    "submit (replay)",
    "list",
    "dispatch",
    "take",
    "arrive",
    "complete",
    "dashboard",
]


# --- process helpers -----------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        kids = [k for p in frontier for k in hw._children(p)]
        found += kids
        frontier = kids
    return found


def tree_cpu(pid: int) -> float:
    return sum(hw._proc_cpu(p) for p in [pid, *descendants(pid)])


def memory(pid: int) -> dict:
    """VmRSS / VmHWM (peak RSS) from /proc/<pid>/status, Pss and private (USS) from
    smaps_rollup, in MiB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        private = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _sep, value = line.partition(":")
            if key == "Pss":
                out["Pss"] = int(value.split()[0]) / 1024
            elif key in ("Private_Clean", "Private_Dirty"):
                private += int(value.split()[0])
        out["USS"] = private / 1024
    except OSError:
        pass
    return out


def pctl(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --- probes ----------------------------------------------------------------------------
class HealthProbe:
    """``GET /healthz`` at a fixed pace on its own connection; (time, ms, status)."""

    def __init__(self, url: str, per_second: float = 4.0):
        parts = url.split("//", 1)[1]
        self.host, _sep, port = parts.partition(":")
        self.port = int(port or 80)
        self.interval = 1.0 / per_second
        self.samples = []
        self.done = threading.Event()

    def once(self) -> tuple[float, int]:
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            conn.close()
            status = response.status
        except OSError:
            status = 0
        return (time.perf_counter() - started) * 1000, status

    def _loop(self):
        next_at = time.monotonic()
        while not self.done.is_set():
            ms, status = self.once()
            self.samples.append((time.monotonic(), ms, status))
            next_at += self.interval
            self.done.wait(max(0.0, next_at - time.monotonic()))

    def start(self):
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join()


class LoadSampler:
    def __init__(self, every: float = 5.0):
        self.every = every
        self.samples = []
        self.done = threading.Event()

    def _loop(self):
        while not self.done.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def start(self):
        self.samples.append(os.getloadavg()[0])
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join()
        self.samples.append(os.getloadavg()[0])


def gunicorn_env(timeout: int) -> dict:
    """gunicorn kills a worker whose request runs past ``--timeout`` (30 s). A Wuye worker
    spends ~3 s of CPU booting and ~5 s importing the API on its first request; four of
    them starting together on a busy 2-core machine pass 30 s and are killed, again and
    again. A longer timeout (through GUNICORN_CMD_ARGS, which gunicorn reads) changes
    nothing once the workers are warm."""
    extra = os.environ.get("GUNICORN_CMD_ARGS", "")
    return {"GUNICORN_CMD_ARGS": f"{extra} --timeout {timeout}".strip()} if timeout else {}


def start_server(bind: str, cmd: list[str], env: dict, log: Path, limit: float = 300, cwd=None):
    """Start a server and wait (up to ``limit`` s: on a busy machine four workers booting
    together take long) until it answers ``GET /healthz`` — or ``/login/`` for the peer —
    with 200. One request at a time with a long timeout, so no abandoned requests pile
    up in the listen queue."""
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=cwd)
    host, port = bind.rsplit(":", 1)
    path = env.get("BENCH_READY_PATH", "/healthz")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited early; see {log}")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=limit)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    hw.stop(proc)
    sys.exit(f"server did not answer {path} within {limit:.0f} s; see {log}")


def wuye_server(bind: str, database_url: str, workers: int, log: Path, extra_env: dict):
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "WUYE_DEMO": "0"}
    env.update(extra_env)
    cmd = [sys.executable, "-m", "wuye.cli", "serve", "--bind", bind, "--workers", str(workers)]
    return start_server(bind, cmd, env, log)


# --- set-up ------------------------------------------------------------------------------
def refresh_rollups(info) -> None:
    hw.setup_django(info["database_url"])
    from django.db import connection

    from wuye.quality import rollups

    started = time.monotonic()
    result = rollups.refresh()
    print(
        f"quality rollups refreshed ({'full' if result.full else 'incremental'}: "
        f"{result.day_rows:,} day rows, {result.month_rows:,} month rows) in "
        f"{time.monotonic() - started:.1f} s",
        flush=True,
    )
    connection.close()


def pool_sizes(info) -> tuple[int, int]:
    import psycopg

    techs = [t["staff_id"] for c in info["communities"] for t in c["technicians"]]
    with psycopg.connect(info["database_url"]) as conn:
        accepted = conn.execute(
            "SELECT count(*) FROM workorders_workorder "
            "WHERE status = 'accepted' AND assignee_id IS NULL"
        ).fetchone()[0]
        dispatched = conn.execute(
            "SELECT count(*) FROM workorders_workorder "
            "WHERE status = 'dispatched' AND assignee_id = ANY(%s)",
            (techs,),
        ).fetchone()[0]
    return accepted, dispatched


def warm_workers(url: str, info: dict, workers: int) -> float:
    """Every worker imports the URLconf and the API on its first request (seconds on a
    busy machine): send concurrent slow-ish requests until each worker has served some."""
    host, port = url.split("//", 1)[1].split(":")
    community = info["communities"][0]
    paths = [
        ("/api/v1/work-orders", community["dispatcher"]["token"]),
        (f"/api/v1/quality/dashboard?community={community['id']}", info["manager"]["token"]),
    ]
    started = time.monotonic()

    def hit(path, token):
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
        conn.close()

    for _round in range(3):
        threads = [
            threading.Thread(target=hit, args=paths[i % len(paths)]) for i in range(workers * 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return time.monotonic() - started


# --- one Locust run ------------------------------------------------------------------------
def locust_command(args, mode: str, prefix: Path) -> list[str]:
    uv = shutil.which("uv") or "uv"
    think = args.think if mode == "think" else "0"
    return [
        uv,
        "run",
        "--quiet",
        "--with",
        args.locust_spec,
        "locust",
        "-f",
        str(BENCH / "locust_workorders.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",
        f"{int(args.warmup + args.duration)}s",
        "--stop-timeout",
        "10",
        "--host",
        args.url,
        "--csv",
        str(prefix),
        "--bench-settings",
        str(args.settings),
        "--think",
        think,
        "--manager-think",
        args.manager_think,
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
    ]


def run_locust(
    cmd: list[str], prefix: Path, server_pid, database_url: str, duration: float, probe=None
) -> dict:
    """Run one Locust command to its end; from the moment Locust resets its statistics
    after the warm-up, account CPU (gunicorn, PostgreSQL, Locust, others) and run the
    optional probe. Returns the CSV rows and failures, CPU, load averages and notes."""
    for old in prefix.parent.glob(f"{prefix.name}_*.csv"):
        old.unlink()
    log = Path(f"{prefix}_locust.log")
    load = LoadSampler()
    load.start()
    meter = hw.CpuMeter(server_pid, database_url)
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while "warm-up over" not in log.read_text() and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        if probe is not None:
            probe.start()
        meter.start()
        window_start = time.monotonic()
        locust_cpu0 = locust_cpu1 = tree_cpu(proc.pid)
        # Locust stops on its own after warm-up + duration; the window ends with the
        # duration (not with Locust's shutdown, which waits for requests in flight).
        while proc.poll() is None and time.monotonic() - window_start < duration:
            locust_cpu1 = max(locust_cpu1, tree_cpu(proc.pid))
            time.sleep(0.5)
        window = time.monotonic() - window_start
        cpu = meter.stop()
        if probe is not None:
            probe.stop()
        rc = proc.wait()
    load.stop()
    cpu["locust_s"] = max(0.0, locust_cpu1 - locust_cpu0)
    cpu["others_s"] = max(0.0, cpu["others_s"] - cpu["locust_s"])
    cpu["window_s"] = window
    lines = log.read_text().splitlines()
    return {
        "rc": rc,
        "rows": read_stats(prefix),
        "failures": read_failures(prefix),
        "load": load.samples,
        "cpu": cpu,
        "locust_notes": [
            line for line in lines if line.startswith(("pools", "warm-up", "skipped", "Traceback"))
        ],
        "log": str(log),
    }


def run_mode(args, mode: str, server_pid: int | None, info: dict) -> dict:
    prefix = OUT_DIR / f"http_mixed_{mode}"
    cmd = locust_command(args, mode, prefix)
    print(f"\n[{mode}] {' '.join(cmd[5:])}", flush=True)
    probe = HealthProbe(args.url)
    result = run_locust(cmd, prefix, server_pid, info["database_url"], args.duration, probe)
    health = [ms for _t, ms, _s in probe.samples]
    result.update(
        mode=mode,
        healthz={
            "requests": len(health),
            "errors": sum(1 for s in probe.samples if s[2] != 200),
            "p50": pctl(health, 50),
            "p95": pctl(health, 95),
            "p99": pctl(health, 99),
            "max": max(health) if health else float("nan"),
        },
    )
    return result


def read_stats(prefix: Path) -> dict:
    rows = {}
    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        return rows
    with path.open() as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or "nan"),
                "p95": float(row["95%"] or "nan"),
                "p99": float(row["99%"] or "nan"),
                "max": float(row["Max Response Time"] or "nan"),
                "mean": float(row["Average Response Time"] or "nan"),
            }
    return rows


def read_failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


# --- report ----------------------------------------------------------------------------------
def print_mode(result: dict, idle_health: dict, users: int) -> None:
    rows, health = result["rows"], result["healthz"]
    base = health["p95"]
    head = (
        f"{'operation':<22}{'requests':>9}{'fails':>6}{'req/s':>8}{'p50':>8}{'p95':>8}"
        f"{'p99':>8}{'max':>8}{'p95/healthz':>12}"
    )
    print(f"\n== {result['mode']} mode: {users} users; milliseconds ==")
    print(head)
    print("-" * len(head))
    print(
        f"{'/healthz (idle server)':<22}{idle_health['requests']:>9}{idle_health['errors']:>6}"
        f"{'':>8}{idle_health['p50']:>8.1f}{idle_health['p95']:>8.1f}{idle_health['p99']:>8.1f}"
        f"{idle_health['max']:>8.0f}"
    )
    window = result["cpu"]["window_s"]
    print(
        f"{'/healthz (under load)':<22}{health['requests']:>9}{health['errors']:>6}"
        f"{health['requests'] / window:>8.1f}{health['p50']:>8.1f}{health['p95']:>8.1f}"
        f"{health['p99']:>8.1f}{health['max']:>8.0f}{1.0:>12.1f}"
    )
    for name in [*ORDER, "Aggregated"]:
        if name not in rows:
            continue
        r = rows[name]
        label = "all mixed requests" if name == "Aggregated" else name
        print(
            f"{label:<22}{r['requests']:>9}{r['failures']:>6}{r['rps']:>8.1f}{r['p50']:>8.0f}"
            f"{r['p95']:>8.0f}{r['p99']:>8.0f}{r['max']:>8.0f}{r['p95'] / base:>12.1f}"
        )
    cpu = result["cpu"]
    n = rows.get("Aggregated", {}).get("requests") or 1
    share = cpu["others_s"] / cpu["machine_total_s"] if cpu["machine_total_s"] else 0.0
    load = result["load"]
    print(
        f"CPU per mixed request: gunicorn {cpu['gunicorn_s'] * 1000 / n:.1f} ms, PostgreSQL "
        f"{cpu['postgres_s'] * 1000 / n:.1f} ms, Locust {cpu['locust_s'] * 1000 / n:.1f} ms; "
        f"other processes used {share:.0%} of the machine's 2 cores"
    )
    print(
        f"load average (1 min) during the run: min {min(load):.2f}, mean "
        f"{statistics.mean(load):.2f}, max {max(load):.2f}"
    )
    for note in result["locust_notes"]:
        print(f"locust: {note}")
    for failure in result["failures"][:10]:
        print(
            f"  FAIL {failure['Method']} {failure['Name']} x{failure['Occurrences']}: "
            f"{failure['Error'][:200]}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=OUT_DIR / "http_workorders.json")
    parser.add_argument("--url", help="use a running server (no memory figures)")
    parser.add_argument("--bind", default="127.0.0.1:8150")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--mode", choices=("think", "saturation", "both"), default="both")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per mode")
    parser.add_argument("--warmup", type=float, default=15.0, help="uncounted seconds per mode")
    parser.add_argument("--think", default="0.5-1.5", help="LO-HI seconds (think mode)")
    parser.add_argument("--manager-think", default="5-15", help="LO-HI seconds (both modes)")
    parser.add_argument("--locust-spec", default=LOCUST_SPEC, help="for `uv run --with`")
    parser.add_argument(
        "--gunicorn-timeout", type=int, default=120, help="worker timeout, s (gunicorn: 30)"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the server",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "http_mixed_result.json")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if not args.settings.exists():
        sys.exit(f"{args.settings} missing: run `uv run python bench/gen_workorders.py --recreate`")
    info = json.loads(args.settings.read_text())
    modes = ["think", "saturation"] if args.mode == "both" else [args.mode]

    accepted, dispatched = pool_sizes(info)
    print(
        f"{info['orders']:,} generated orders; {accepted:,} wait for dispatch, {dispatched:,} "
        f"dispatched to a technician",
        flush=True,
    )
    if accepted < 1500:
        print("WARNING: few orders left to dispatch; rerun gen_workorders.py --recreate")
    refresh_rollups(info)

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    server = None
    try:
        if args.url is None:
            extra_env = {**gunicorn_env(args.gunicorn_timeout)}
            extra_env.update(item.split("=", 1) for item in args.server_env)
            server = wuye_server(
                args.bind,
                info["database_url"],
                args.workers,
                OUT_DIR / "http_mixed_server.log",
                extra_env,
            )
            args.url = f"http://{args.bind}"
        warmed = warm_workers(args.url, info, args.workers)
        print(f"workers warmed in {warmed:.1f} s", flush=True)
        idle = HealthProbe(args.url)
        idle_ms = [idle.once() for _ in range(100)]
        values = [ms for ms, _s in idle_ms]
        idle_health = {
            "requests": len(values),
            "errors": sum(1 for _ms, s in idle_ms if s != 200),
            "p50": pctl(values, 50),
            "p95": pctl(values, 95),
            "p99": pctl(values, 99),
            "max": max(values),
        }
        results = [run_mode(args, mode, server.pid if server else None, info) for mode in modes]
        workers_mem = {}
        if server is not None:
            workers_mem = {pid: memory(pid) for pid in sorted(hw._children(server.pid))}
            master_mem = memory(server.pid)
    finally:
        hw.stop(server)

    print(
        f"\nWuye mixed work-order workload through gunicorn ({args.workers} sync workers), "
        f"{info['orders']:,} orders, {info['houses']:,} houses; Locust {args.locust_spec}, "
        f"{args.users} users ({', '.join(f'{k} {v}' for k, v in PERSONAS.items())} per 50); "
        f"{args.duration:.0f} s measured after {args.warmup:.0f} s warm-up per mode"
    )
    think_lo, _sep, think_hi = args.think.partition("-")
    mean_think = (float(think_lo) + float(think_hi or think_lo)) / 2
    m_lo, _sep, m_hi = args.manager_think.partition("-")
    managers = args.users * PERSONAS["Manager"] / 50
    offered = (args.users - managers) / mean_think + managers / (
        (float(m_lo) + float(m_hi or m_lo)) / 2
    )
    print(
        f"think mode offered load: {args.users - managers:.0f} users / {mean_think:.1f} s mean "
        f"think + {managers:.0f} managers = at most {offered:.1f} req/s (less by the response "
        "times)"
    )
    failed = False
    for result in results:
        print_mode(result, idle_health, args.users)
        failed |= result["rc"] != 0 or any(r["failures"] for r in result["rows"].values())
        failed |= result["healthz"]["errors"] > 0
    if workers_mem:
        print("\nMemory per web worker after the runs (MiB): VmRSS, peak VmHWM, Pss, private")
        for pid, mem in workers_mem.items():
            print(
                f"  worker {pid}: RSS {mem.get('VmRSS', 0):6.1f}  peak {mem.get('VmHWM', 0):6.1f}  "
                f"Pss {mem.get('Pss', 0):6.1f}  private {mem.get('USS', 0):6.1f}"
            )
        print(
            f"  master {server.pid}: RSS {master_mem.get('VmRSS', 0):6.1f}  Pss "
            f"{master_mem.get('Pss', 0):6.1f}"
        )
    print("\nTargets:")
    think = next((r for r in results if r["mode"] == "think"), None)
    if think and "Aggregated" in think["rows"]:
        p95 = think["rows"]["Aggregated"]["p95"]
        print(f"  think mode p95 {p95:.0f} ms < 100 ms: {'met' if p95 < 100 else 'MISSED'}")
    if workers_mem:
        top = max(m.get("VmRSS", 0) for m in workers_mem.values())
        verdict = "met" if top * 1.048576 < 200 else "MISSED"
        print(f"  largest worker RSS {top:.0f} MiB ({top * 1.048576:.0f} MB) < 200 MB: {verdict}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    args.out.write_text(
        json.dumps(
            {
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "args": {k: str(v) for k, v in vars(args).items()},
                "load_before": load_before,
                "idle_healthz": idle_health,
                "results": results,
                "workers_memory_mib": workers_mem,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print(f"written to {args.out}")
    if failed:
        print("FAILED: some requests failed (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
