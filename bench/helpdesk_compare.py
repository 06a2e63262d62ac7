"""Wuye against django-helpdesk on the same three operations, same server kind, same
PostgreSQL, same worker count, same Locust load: throughput and p95, as a Wuye/peer ratio.

Run ``bench/gen_workorders.py --recreate`` first (Wuye's data set). Then, in one command:

1. the peer's virtual environment ``bench/out/helpdesk-venv`` (``uv venv`` + ``uv pip
   install django-helpdesk gunicorn psycopg[binary]``: the latest django-helpdesk and the
   Django it pulls in) unless it is there already (``--reinstall`` to redo it);
2. its own PostgreSQL database (``--database``, default ``wuye_bench_helpdesk``, on the
   same server) loaded by ``bench/helpdesk_site/load.py`` (our minimal project: settings,
   URLs, loader) with as many tickets as Wuye's database has work orders, 20 queues (one
   per community), a desk user per queue, 100 technicians, the follow-ups each ticket
   would have; reloaded when ``--recreate`` is given or the ticket count differs;
3. for each system in turn, ``--rounds`` times (default once each): start its gunicorn
   (the flags of ``wuye serve``: ``--workers`` sync workers, access log, no control
   socket), warm every worker, run Locust (``bench/locust_compare.py``, ``--users``
   users, no think time: saturation) for ``--warmup`` + ``--duration`` seconds with
   create / list open / update status equally weighted, read the memory of each worker
   and stop the server;
4. prints per operation and overall: requests, failures, req/s, p50/p95/p99 for both,
   the Wuye/peer throughput ratio and the peer/Wuye p95 ratio; the CPU each system's
   workers and PostgreSQL backends used per request; the load average; the versions.

Exit status 1 when a request failed. Target (issue 8): Wuye ≥ 2× the peer's throughput.

    uv run python bench/helpdesk_compare.py                      # 60 s per system
    uv run python bench/helpdesk_compare.py --duration 30 --rounds 2
"""

import argparse
import datetime
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import http_mixed as hm  # noqa: E402
import http_workorders as hw  # noqa: E402

OUT_DIR = BENCH / "out"
VENV = OUT_DIR / "helpdesk-venv"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
OPERATIONS = ("create", "list open", "update status")


def uv() -> str:
    return shutil.which("uv") or "uv"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path, spec: str, reinstall: bool) -> dict:
    python = venv_python(venv)
    probe = [
        str(python),
        "-c",
        "import json, importlib.metadata as m; print(json.dumps({p: m.version(p) for p in "
        "('django-helpdesk', 'django', 'gunicorn', 'psycopg', 'djangorestframework')}))",
    ]
    if reinstall or not python.exists() or subprocess.run(probe, capture_output=True).returncode:
        print(f"creating {venv} and installing {spec} …", flush=True)
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(
            [
                uv(),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                spec,
                "gunicorn",
                "psycopg[binary]",
            ],
            check=True,
        )
    versions = json.loads(subprocess.run(probe, capture_output=True, check=True, text=True).stdout)
    versions["python"] = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return versions


def count_orders(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM workorders_workorder").fetchone()[0]


def ensure_helpdesk_data(args, tickets: int, env: dict) -> dict:
    import psycopg

    out = OUT_DIR / "helpdesk.json"
    if not args.recreate and out.exists():
        info = json.loads(out.read_text())
        if (
            info.get("tickets") == tickets
            and info.get("database_url") == env["HELPDESK_DATABASE_URL"]
        ):
            try:
                with psycopg.connect(info["database_url"]) as conn:
                    have = conn.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()[0]
                if have >= tickets:
                    print(f"django-helpdesk database {args.database} is loaded ({have:,} tickets)")
                    return info
            except psycopg.Error:
                pass
    print(f"(re)creating database {args.database} with {tickets:,} tickets …", flush=True)
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    subprocess.run(
        [
            str(venv_python(args.venv)),
            "-m",
            "helpdesk_site.load",
            "--tickets",
            str(tickets),
            "--host",
            args.helpdesk_bind,
            "--out",
            str(out),
        ],
        env=env,
        check=True,
        cwd=BENCH,
    )
    return json.loads(out.read_text())


def start_helpdesk(args, env: dict, log: Path) -> subprocess.Popen:
    from wuye.cli import _gunicorn_argv

    argv = _gunicorn_argv(args.helpdesk_bind, args.workers)
    argv[0] = str(venv_python(args.venv))
    argv[argv.index("wuye.wsgi:application")] = "helpdesk_site.wsgi:application"
    env = {**env, "BENCH_READY_PATH": "/login/"}
    return hm.start_server(args.helpdesk_bind, argv, env, log, cwd=BENCH)


def warm_helpdesk(bind: str, info: dict, workers: int) -> float:
    host, port = bind.rsplit(":", 1)
    started = time.monotonic()

    def hit(queue):
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        conn.request(
            "GET",
            f"{queue['datatables_path']}?draw=1&start=0&length=50",
            headers={"Cookie": f"sessionid={queue['sessions'][0]}"},
        )
        conn.getresponse().read()
        conn.close()

    for _round in range(3):
        threads = [
            threading.Thread(target=hit, args=(info["queues"][i % len(info["queues"])],))
            for i in range(workers * 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return time.monotonic() - started


def locust_command(args, user_class: str, prefix: Path, host: str) -> list[str]:
    return [
        uv(),
        "run",
        "--quiet",
        "--with",
        args.locust_spec,
        "locust",
        "-f",
        str(BENCH / "locust_compare.py"),
        user_class,
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
        host,
        "--csv",
        str(prefix),
        "--bench-settings",
        str(args.settings),
        "--helpdesk-settings",
        str(OUT_DIR / "helpdesk.json"),
        "--think",
        args.think,
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
    ]


def run_system(args, system: str, round_no: int, wuye_info: dict, hd_info: dict, hd_env: dict):
    prefix = OUT_DIR / f"compare_{system}_{round_no}"
    log = OUT_DIR / f"compare_{system}_server.log"
    if system == "wuye":
        server = hm.wuye_server(
            args.wuye_bind,
            wuye_info["database_url"],
            args.workers,
            log,
            hm.gunicorn_env(args.gunicorn_timeout),
        )
        url, database_url, user_class = (
            f"http://{args.wuye_bind}",
            wuye_info["database_url"],
            "WuyeDesk",
        )
    else:
        server = start_helpdesk(args, {**hd_env, **hm.gunicorn_env(args.gunicorn_timeout)}, log)
        url, database_url, user_class = (
            f"http://{args.helpdesk_bind}",
            hd_info["database_url"],
            "HelpdeskDesk",
        )
    try:
        if system == "wuye":
            warmed = hm.warm_workers(url, wuye_info, args.workers)
        else:
            warmed = warm_helpdesk(args.helpdesk_bind, hd_info, args.workers)
        cmd = locust_command(args, user_class, prefix, url)
        print(
            f"\n[{system} round {round_no}] workers warmed in {warmed:.1f} s; {' '.join(cmd[5:])}",
            flush=True,
        )
        result = hm.run_locust(cmd, prefix, server.pid, database_url, args.duration)
        result["memory"] = {pid: hm.memory(pid) for pid in sorted(hw._children(server.pid))}
    finally:
        hw.stop(server)
    result.update(system=system, round=round_no)
    for note in result["locust_notes"]:
        print(f"  locust: {note}")
    return result


def merge(results: list[dict]) -> dict:
    """Rounds of one system: requests and req/s add up over equal windows (mean req/s);
    percentiles are the mean of the rounds' percentiles (Locust's CSV has no raw data)."""
    out = {}
    names = {n for r in results for n in r["rows"]}
    for name in names:
        rows = [r["rows"][name] for r in results if name in r["rows"]]
        k = len(rows)
        out[name] = {
            "requests": sum(r["requests"] for r in rows),
            "failures": sum(r["failures"] for r in rows),
            "rps": sum(r["rps"] for r in rows) / k,
            **{p: sum(r[p] for r in rows) / k for p in ("p50", "p95", "p99", "max", "mean")},
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=OUT_DIR / "http_workorders.json")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="measured s per run")
    parser.add_argument("--warmup", type=float, default=15.0, help="uncounted s per run")
    parser.add_argument("--rounds", type=int, default=1, help="runs per system, alternating")
    parser.add_argument("--think", default="0", help="LO-HI s between requests; 0 = saturation")
    parser.add_argument("--locust-spec", default=hm.LOCUST_SPEC)
    parser.add_argument(
        "--gunicorn-timeout", type=int, default=120, help="worker timeout, s, both servers"
    )
    parser.add_argument("--helpdesk-spec", default="django-helpdesk")
    parser.add_argument("--venv", type=Path, default=VENV)
    parser.add_argument("--reinstall", action="store_true", help="rebuild the peer's venv")
    parser.add_argument("--server", default=SERVER_URL, help="PostgreSQL URL without a database")
    parser.add_argument("--database", default="wuye_bench_helpdesk")
    parser.add_argument("--recreate", action="store_true", help="reload the peer's database")
    parser.add_argument("--wuye-bind", default="127.0.0.1:8150")
    parser.add_argument("--helpdesk-bind", default="127.0.0.1:8151")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "helpdesk_compare_result.json")
    args = parser.parse_args(argv)
    if args.database in ("test", "wuye", "postgres"):
        parser.error(f"refusing to use database {args.database!r}: give a scratch name")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if not args.settings.exists():
        sys.exit(f"{args.settings} missing: run `uv run python bench/gen_workorders.py --recreate`")
    wuye_info = json.loads(args.settings.read_text())

    versions = ensure_venv(args.venv, args.helpdesk_spec, args.reinstall)
    print(f"peer: {', '.join(f'{k} {v}' for k, v in versions.items())}", flush=True)
    hd_env = {
        **os.environ,
        "PYTHONPATH": str(BENCH),
        "DJANGO_SETTINGS_MODULE": "helpdesk_site.settings",
        "HELPDESK_DATABASE_URL": f"{args.server}/{args.database}",
    }
    for key in ("VIRTUAL_ENV", "DATABASE_URL"):
        hd_env.pop(key, None)
    orders = count_orders(wuye_info["database_url"])
    hd_info = ensure_helpdesk_data(args, orders, hd_env)
    accepted, _dispatched = hm.pool_sizes(wuye_info)
    print(
        f"Wuye: {orders:,} work orders ({accepted:,} waiting for dispatch); "
        f"django-helpdesk: {hd_info['tickets']:,} tickets",
        flush=True,
    )

    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    runs = []
    for round_no in range(1, args.rounds + 1):
        for system in ("wuye", "helpdesk"):
            runs.append(run_system(args, system, round_no, wuye_info, hd_info, hd_env))

    merged = {s: merge([r for r in runs if r["system"] == s]) for s in ("wuye", "helpdesk")}
    print(
        f"\nWuye vs django-helpdesk {versions['django-helpdesk']} (Django {versions['django']}): "
        f"gunicorn {args.workers} sync workers each, {args.users} Locust users, think time "
        f"{args.think} s, {args.duration:.0f} s measured after {args.warmup:.0f} s warm-up, "
        f"{args.rounds} run(s) per system; {orders:,} orders / {hd_info['tickets']:,} tickets; ms"
    )
    head = (
        f"{'operation':<16}{'Wuye req/s':>11}{'p50':>7}{'p95':>7}{'p99':>7}{'fails':>6}"
        f"{'peer req/s':>11}{'p50':>7}{'p95':>7}{'p99':>7}{'fails':>6}"
        f"{'Wuye/peer req/s':>16}{'peer/Wuye p95':>14}"
    )
    print(head)
    print("-" * len(head))
    for name in [*OPERATIONS, "Aggregated"]:
        w, h = merged["wuye"].get(name), merged["helpdesk"].get(name)
        if not w or not h:
            continue
        label = "all" if name == "Aggregated" else name
        print(
            f"{label:<16}{w['rps']:>11.1f}{w['p50']:>7.0f}{w['p95']:>7.0f}{w['p99']:>7.0f}"
            f"{w['failures']:>6}{h['rps']:>11.1f}{h['p50']:>7.0f}{h['p95']:>7.0f}{h['p99']:>7.0f}"
            f"{h['failures']:>6}{w['rps'] / h['rps'] if h['rps'] else float('inf'):>16.2f}"
            f"{h['p95'] / w['p95'] if w['p95'] else float('nan'):>14.2f}"
        )
    print(
        "\nPer run: CPU per request (gunicorn workers, PostgreSQL backends, Locust), the "
        "share of the machine others used, load average, worker memory"
    )
    for r in runs:
        n = r["rows"].get("Aggregated", {}).get("requests") or 1
        cpu = r["cpu"]
        share = cpu["others_s"] / cpu["machine_total_s"] if cpu["machine_total_s"] else 0.0
        rss = [m.get("VmRSS", 0) for m in r["memory"].values()]
        rps = r["rows"].get("Aggregated", {}).get("rps", 0)
        print(
            f"  {r['system']:<8} round {r['round']}: {rps:6.1f} req/s; gunicorn "
            f"{cpu['gunicorn_s'] * 1000 / n:5.1f} ms, PostgreSQL "
            f"{cpu['postgres_s'] * 1000 / n:5.1f} ms, Locust {cpu['locust_s'] * 1000 / n:4.1f} ms; "
            f"others {share:4.0%}; load {min(r['load']):.2f}–{max(r['load']):.2f}; worker RSS "
            f"{min(rss, default=0):.0f}–{max(rss, default=0):.0f} MiB"
        )
        for failure in r["failures"][:5]:
            print(
                f"    FAIL {failure['Method']} {failure['Name']} x{failure['Occurrences']}: "
                f"{failure['Error'][:160]}"
            )
    w_all, h_all = merged["wuye"].get("Aggregated"), merged["helpdesk"].get("Aggregated")
    ratio = w_all["rps"] / h_all["rps"] if w_all and h_all and h_all["rps"] else float("nan")
    print(
        f"\nTarget: Wuye ≥ 2× the peer's throughput: {ratio:.2f}× — "
        f"{'met' if ratio >= 2 else 'MISSED'}"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    args.out.write_text(
        json.dumps(
            {
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "args": {k: str(v) for k, v in vars(args).items()},
                "versions": versions,
                "load_before": load_before,
                "runs": runs,
                "merged": merged,
                "ratio": ratio,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print(f"written to {args.out}")
    failed = any(r["rc"] != 0 or any(x["failures"] for x in r["rows"].values()) for r in runs)
    if failed:
        print("FAILED: some requests failed (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
