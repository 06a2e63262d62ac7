"""The ``wuye`` command: demo, serve, worker, scheduler, backup, restore, openapi, manage."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

DEFAULT_BIND = "127.0.0.1:8000"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()


def _ensure_var_dir() -> None:
    from django.conf import settings

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)


def _gunicorn_argv(bind: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "wuye.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        # Load the app once in the master: workers fork ready and share its memory.
        "--preload",
        # gunicorn's control socket sits at one fixed path per user, so two servers
        # on one machine (two web processes, a benchmark) would fight over it.
        "--no-control-socket",
    ]


def cmd_serve(args) -> int:
    """Run the web app in gunicorn (a production WSGI server)."""
    os.execv(sys.executable, _gunicorn_argv(args.bind, args.workers))
    return 0  # pragma: no cover - execv does not return


def cmd_worker(args) -> int:
    """Run background tasks from the configured queue (database or Redis) until stopped."""
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    if settings.TASKS_BACKEND == "redis":
        call_command("rqworker", "default", job_class="django_tasks_rq.Job", burst=args.batch)
        return 0
    from wuye.core import workers

    # Tasks a dead worker left RUNNING go back to the queue before this one starts.
    workers.requeue_orphaned_tasks()
    heartbeat = workers.Heartbeat(workers.new_worker_id())
    heartbeat.start()
    try:
        # No autoreload even under DEBUG: a reload can cut a task off halfway.
        call_command(
            "db_worker",
            interval=args.interval,
            batch=args.batch,
            reload=False,
            startup_delay=False,
            worker_id=heartbeat.worker_id,
        )
    finally:
        heartbeat.stop()
    return 0


def cmd_scheduler(args) -> int:
    """Enqueue periodic jobs; safe to run more than one."""
    _setup_django()
    from wuye.core.periodic import serve_forever
    from wuye.schedule import JOBS

    serve_forever(JOBS, interval_seconds=args.interval)
    return 0


def cmd_backup(args) -> int:
    """Archive the database (and local media) with a per-table manifest."""
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from wuye.core import backup

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.output or f"wuye-backup-{stamp}.tar.gz")
    media = Path(settings.MEDIA_ROOT) if settings.MEDIA_STORAGE == "local" else None
    try:
        manifest = backup.backup(connection, out, media)
    except backup.BackupError as error:
        print(f"wuye backup: {error}", file=sys.stderr)
        return 2
    tables = manifest["tables"]
    rows = sum(table["rows"] for table in tables.values())
    media_note = "with media" if manifest["media"] else "without media (none here, or S3)"
    print(f"{out}: {manifest['engine']}, {len(tables)} tables, {rows:,} rows, {media_note}")
    return 0


def cmd_restore(args) -> int:
    """Restore an archive into the configured database, then verify every table."""
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from wuye.core import backup

    media = Path(settings.MEDIA_ROOT) if settings.MEDIA_STORAGE == "local" else None
    connection.close()  # the restore writes underneath Django's connection
    try:
        manifest = backup.restore(
            Path(args.archive),
            connection.settings_dict,
            connection.vendor,
            media,
            force=args.force,
        )
    except backup.BackupError as error:
        print(f"wuye restore: {error}", file=sys.stderr)
        return 2
    rows = sum(table["rows"] for table in manifest["tables"].values())
    print(
        f"restored {len(manifest['tables'])} tables, {rows:,} rows "
        f"(backup of {manifest['created_at']}); every count and checksum matches"
    )
    return 0


def cmd_openapi(args) -> int:
    _setup_django()
    from wuye.api import api

    schema = api.get_openapi_schema()
    sys.stdout.write(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return 0


def cmd_gen_data(args) -> int:
    """Generate a realistic data set at a given size into the PostgreSQL database."""
    _setup_django()
    import datetime

    from wuye.gendata import runner
    from wuye.gendata.options import Options

    try:
        options = Options.build(
            args.preset,
            companies=args.companies,
            communities=args.communities,
            houses=args.houses,
            orders=args.orders,
            months=args.months,
            seed=args.seed,
            until=datetime.date.fromisoformat(args.until) if args.until else None,
            replace=args.replace,
            skip=tuple(s for s in (args.skip or "").split(",") if s),
        )
    except ValueError as exc:
        print(f"wuye gen-data: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        results = runner.generate(options, log=lambda line: print(line, flush=True))
    except runner.Refused as exc:
        print(f"wuye gen-data: {exc}", file=sys.stderr)
        return exc.status
    print()
    print(runner.summary(results))
    print(f"done in {time.monotonic() - started:.1f} s", flush=True)
    return 0


def cmd_manage(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["wuye manage", *args.rest])
    return 0


def _stop_all(procs: list[subprocess.Popen], timeout: float = 15.0) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            proc.wait(remaining)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, counting Chinese characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def cmd_demo(args) -> int:
    """Migrate the embedded database, load demo data once, then run web + worker + scheduler."""
    os.environ.setdefault("WUYE_DEMO", "1")
    _setup_django()
    _ensure_var_dir()
    from django.conf import settings
    from django.core.management import call_command

    from wuye import demo

    print("· 迁移数据库 / migrating", settings.DATABASES["default"]["NAME"], flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    created = demo.load()
    print("· 演示数据 / demo data:", "已创建 created" if created else "已存在 already loaded")
    print()
    print(f"Wuye 物业 is running at http://{args.bind}/")
    print(f"演示账号 / demo logins (password for all: {demo.PASSWORD}):")
    for role, username in demo.logins():
        print(f"  {_pad(role, 28)} {username}")
    print("Ctrl-C 停止 / stops everything.", flush=True)

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "wuye.settings"}
    wuye = [sys.executable, "-m", "wuye.cli"]
    procs = [
        subprocess.Popen(_gunicorn_argv(args.bind, args.workers), env=env),
        subprocess.Popen([*wuye, "worker"], env=env),
        subprocess.Popen([*wuye, "scheduler"], env=env),
    ]

    stopping = False

    def _on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        _stop_all(procs)
    failed = [p for p in procs if p.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    print("Wuye stopped.", flush=True)
    return 1 if failed and not stopping else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wuye", description="Wuye 物业服务平台")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="demo database, data and all processes on one machine")
    p.add_argument("--bind", default=DEFAULT_BIND)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the web app in gunicorn")
    p.add_argument("--bind", default=os.environ.get("WUYE_BIND", DEFAULT_BIND))
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background tasks")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls")
    p.add_argument("--batch", action="store_true", help="run what is queued, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="enqueue periodic jobs (each tick once)")
    p.add_argument("--interval", type=float, default=15.0)
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("backup", help="archive the database and local media")
    p.add_argument("--output", "-o", help="archive path (default wuye-backup-<time>.tar.gz)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore an archive made by wuye backup, verified")
    p.add_argument("archive")
    p.add_argument("--force", action="store_true", help="overwrite a database holding data")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("openapi", help="print the OpenAPI schema as JSON")
    p.set_defaults(func=cmd_openapi)

    p = sub.add_parser("gen-data", help="generate realistic data at a given size (PostgreSQL only)")
    p.add_argument("--preset", choices=("small", "medium", "large"), default=None,
                   help="small (default): CI-sized; medium: 100,000 houses, 1,000,000 orders; "
                   "large: 1,000,000 houses, 10,000,000 orders")  # fmt: skip
    p.add_argument("--companies", type=int)
    p.add_argument("--communities", type=int)
    p.add_argument("--houses", type=int)
    p.add_argument("--orders", type=int)
    p.add_argument("--months", type=int, help="months of history (default 12)")
    p.add_argument("--seed", type=int, help="same seed, same rows (default 42)")
    p.add_argument("--until", help="data up to the start of this day, YYYY-MM-DD (default today)")
    p.add_argument("--replace", action="store_true", help="delete generated data first")
    p.add_argument("--skip", help="steps to leave out, comma separated (e.g. bills,inspections)")
    p.set_defaults(func=cmd_gen_data)

    p = sub.add_parser("manage", help="Django management commands", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
