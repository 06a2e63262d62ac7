"""Benchmark ``GET /api/v1/houses`` over real HTTP against gunicorn.

Run ``bench/gen_houses.py`` first (it writes ``bench/out/tokens.json``). This script
starts ``wuye serve`` on that database (or uses ``--url``), then for a company-wide
admin and a community-scoped dispatcher times the first page and a deep cursor page
(the cursor the API would hand out after the house nearest below id 900,000), with one
keep-alive client, sequentially. It prints p50/p95/p99 per case and the deep/first
ratio, and EXPLAIN ANALYZEs the house query the API runs for each case.

    uv run python bench/house_list.py                # 300 timed requests per case
    uv run python bench/house_list.py --requests 500 --deep-id 990000
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"
PATH = "/api/v1/houses"
TARGET_P95_MS = 50.0


def start_server(bind: str, database_url: str, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "WUYE_DEMO": "0"}
    cmd = [sys.executable, "-m", "wuye.cli", "serve", "--bind", bind, "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    host, port = bind.rsplit(":", 1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited early; see {log}")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("server did not answer /healthz within 60 s")


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, url: str, token: str):
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, query: dict | None = None, path: str = PATH) -> tuple[float, dict]:
        path += "?" + urllib.parse.urlencode(query, doseq=True) if query else ""
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            sys.exit(f"GET {path} answered {response.status}: {body[:300]!r}")
        return elapsed, json.loads(body)


def percentiles(samples: list[float]) -> dict:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(samples),
    }


def measure(
    client: Client, query: dict, requests: int, warmup: int, path: str = PATH
) -> tuple[dict, dict]:
    for _ in range(warmup):
        client.get(query, path)
    samples, body = [], None
    for _ in range(requests):
        elapsed, body = client.get(query, path)
        samples.append(elapsed)
    return percentiles(samples), body


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()


def items_of(body: dict) -> list:
    return body["items"] if "items" in body else body["results"]


def deep_cursor(client: Client, username: str, deep_id: int) -> tuple[str, int]:
    """A cursor the API itself handed out, pointing just past id ``deep_id``.

    Jumping there by walking would take thousands of requests, so build the cursor
    for the visible house nearest below ``deep_id`` with the API's own cursor class,
    ask for that page, and keep the ``next`` cursor of the answer.
    """
    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.core.apitools import IdCursorPagination
    from wuye.estates.models import House

    actor = Actor(User.objects.get(username=username))
    house = House.objects.visible_to(actor).filter(id__lte=deep_id).order_by("-id").first()
    jump = IdCursorPagination.Cursor(p=str(house.id)).encode_as_param()
    _elapsed, body = client.get({"cursor": jump})
    assert items_of(body)[0]["id"] == house.id, "the constructed cursor landed elsewhere"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["next"]).query)
    return query["cursor"][0], house.id


def explain(token: str, query: dict) -> dict:
    """Run the API in-process, catch its house query and EXPLAIN ANALYZE it."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PATH, query)
    assert response.status_code == 200, response.content[:300]
    house_sql = [
        q["sql"]
        for q in ctx.captured_queries
        if '"estates_house"' in q["sql"] and "LIMIT" in q["sql"] and q["sql"].startswith("SELECT")
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + house_sql[-1])
        plan = [row[0] for row in cursor.fetchall()]
    return {"sql": house_sql[-1], "plan": plan, "queries": len(ctx.captured_queries)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=OUT_DIR / "tokens.json")
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--bind", default="127.0.0.1:8130")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--deep-id", type=int, default=900_000)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "house_list.json")
    args = parser.parse_args(argv)

    info = json.loads(args.settings.read_text())
    setup_django(info["database_url"])

    server = None
    if args.url is None:
        server = start_server(args.bind, info["database_url"], args.workers, OUT_DIR / "server.log")
        args.url = f"http://{args.bind}"
    results, plans = [], {}
    try:
        for username, token in info["tokens"].items():
            client = Client(args.url, token)
            cursor, after = deep_cursor(client, username, args.deep_id)
            cases = {"first": {}, "deep": {"cursor": cursor}}
            for page, query in cases.items():
                stats, body = measure(client, query, args.requests, args.warmup)
                items = items_of(body)
                stats.update(actor=username, page=page, rows=len(items))
                stats["first_id"] = items[0]["id"] if items else None
                if page == "deep":
                    assert items and items[0]["id"] > after, "deep cursor did not move"
                results.append(stats)
                plans[f"{username} {page}"] = explain(token, query)
    finally:
        if server is not None:
            server.terminate()
            server.wait(15)

    print(f"\nGET {PATH}: {info['houses']:,} houses, {args.requests} requests per case\n")
    print(f"{'actor':<18}{'page':<7}{'rows':>5}{'first id':>10}{'p50':>8}{'p95':>8}{'p99':>8}")
    for r in results:
        print(
            f"{r['actor']:<18}{r['page']:<7}{r['rows']:>5}{r['first_id'] or '-':>10}"
            f"{r['p50']:>8.1f}{r['p95']:>8.1f}{r['p99']:>8.1f}"
        )
    ok = True
    for username in info["tokens"]:
        first, deep = (r for r in results if r["actor"] == username)
        ratio = deep["p95"] / first["p95"]
        print(f"{username}: deep/first p95 ratio {ratio:.2f}")
        ok &= first["p95"] < TARGET_P95_MS and deep["p95"] < TARGET_P95_MS
    for name, plan in plans.items():
        print(f"\n-- {name} ({plan['queries']} queries per request)\n{plan['sql']}")
        print("\n".join("   " + line for line in plan["plan"]))
    args.out.write_text(json.dumps({"results": results, "plans": plans}, indent=2) + "\n")
    print(f"\n{'PASS' if ok else 'FAIL'}: target p95 < {TARGET_P95_MS:.0f} ms for every case")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
