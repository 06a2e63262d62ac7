"""HTTP throughput and latency of a mixed work-order workload against gunicorn on PostgreSQL.

Run ``bench/gen_workorders.py --recreate`` first (it writes ``bench/out/http_workorders.json``
with the database URL, ids and API tokens). This script starts the production server
(``wuye serve`` = gunicorn, ``--workers`` sync workers, default 4) on that database — or
uses ``--url`` — and drives it with ``--clients`` concurrent clients (default 50), each a
thread with its own HTTP connection, in three phases:

1. baseline: ``GET /healthz`` (one ``SELECT 1``) at the same concurrency;
2. baseline: ``GET /api/v1/houses`` first page as a community dispatcher;
3. the mixed workload, after ``--warmup`` seconds of the same mix that are not counted:
   - submit (30 %): a resident ``POST /api/v1/work-orders`` with a fresh
     ``Idempotency-Key``; one in twenty resends the client's previous submit with the same
     key and body, which must be replayed (201, ``Idempotent-Replayed: true``);
   - list (40 %): a dispatcher's ``GET /api/v1/work-orders`` page: no filter, 待派单
     (status=accepted), in hand (dispatched/taken/in_progress), complaints, the last 7
     days, or a text search;
   - dispatch (15 %): a dispatcher ``POST /work-orders/{id}/dispatch`` of an accepted order
     of their community to one of its technicians;
   - complete (15 %): the technician an order was dispatched to takes it, arrives and
     completes it (three requests, one after the other).
   Orders to dispatch and to complete are handed out once each (orders dispatched during
   the run join the queue to complete), so a 409 would be a real race, not the bench
   colliding with itself.

Each phase lasts ``--duration`` seconds, or ends after ``--requests`` requests. Prints per
operation: requests, non-2xx (409 apart), throughput, p50/p95/p99/max latency (client wall
time, connection set-up included: gunicorn's sync workers close the connection after each
response) and the ratio of its p95 to the /healthz p95. Then, in-process, the SQL each
operation runs (query counts) and ``EXPLAIN (ANALYZE, BUFFERS)`` of each list variant's page
query. Exit status 1 on any non-2xx other than 409, a replay that was not replayed, or a
client thread that died.

CPU accounting: the gunicorn workers, the PostgreSQL backends connected to the benchmark
database, this process, and the rest of the machine (other work on the same cores). With
``--with-worker`` the task worker's database backend counts under PostgreSQL and its own
Python process under "others".

    uv run python bench/http_workorders.py                       # 50 clients, 60 s per phase
    uv run python bench/http_workorders.py --clients 20 --requests 5000 --workers 2
"""

import argparse
import collections
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"
API = "/api/v1"
MIX = {"submit": 30, "list": 40, "dispatch": 15, "complete": 15}
LIST_VARIANTS = {  # name -> (weight, query)
    "first page": (30, {}),
    "to dispatch": (25, {"status": ["accepted"]}),
    "in hand": (15, {"status": ["dispatched", "taken", "in_progress"]}),
    "complaints": (10, {"request_type": "complaint"}),
    "last 7 days": (10, "date_from"),
    "search text": (10, {"q": "漏水"}),
}
REPLAY_SHARE = 0.05
DESCRIPTIONS = (
    "厨房水管漏水，楼下天花板渗水",
    "卫生间马桶堵塞，冲不下去",
    "客厅灯不亮，开关没反应",
    "入户门锁坏了",
    "楼道灯不亮",
    "楼上装修噪音太大",
    "阳台地漏堵塞，积水",
)


# --- server ---------------------------------------------------------------------
def start_process(cmd, env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def start_server(
    bind: str, database_url: str, workers: int, log: Path, extra_env: dict | None = None
) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "WUYE_DEMO": "0"}
    env.update(extra_env or {})
    cmd = [sys.executable, "-m", "wuye.cli", "serve", "--bind", bind, "--workers", str(workers)]
    proc = start_process(cmd, env, log)
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


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- client ---------------------------------------------------------------------
class Connection:
    """One client's HTTP connection (reopened by http.client when the server closes it)."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def call(self, method, path, token=None, body=None, headers=None):
        head = {"Accept": "application/json", **(headers or {})}
        if token:
            head["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            head["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=head)
            response = self.conn.getresponse()
            payload = response.read()
            status = response.status
            replayed = response.getheader("Idempotent-Replayed") == "true"
            if response.will_close:
                self.conn.close()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            status, payload, replayed = 599, repr(exc).encode(), False
        elapsed = (time.perf_counter() - started) * 1000
        return status, elapsed, payload, replayed


class Recorder:
    def __init__(self):
        self.samples = []  # (op, variant, status, ms)
        self.errors = []  # (op, variant, status, body excerpt)
        self.replays_missed = 0

    def add(self, op, variant, status, ms, payload=b""):
        self.samples.append((op, variant, status, ms))
        if not 200 <= status < 300:
            self.errors.append((op, variant, status, payload[:300].decode(errors="replace")))


class Workload:
    """Shared state: the actors, the orders to dispatch and to complete."""

    def __init__(self, info, pools, rng_seed):
        self.info = info
        self.communities = info["communities"]
        self.residents = info["residents"]
        self.categories = info["submit_category_ids"]
        self.to_dispatch = pools["to_dispatch"]  # community index -> deque of order ids
        self.to_complete = pools["to_complete"]  # deque of (order id, community idx, tech idx)
        self.lock = threading.Lock()
        self.seed = rng_seed
        self.exhausted = collections.Counter()
        today = datetime.date.today()
        self.variants = {}
        for name, (weight, query) in LIST_VARIANTS.items():
            if query == "date_from":
                query = {"date_from": (today - datetime.timedelta(days=7)).isoformat()}
            self.variants[name] = (weight, query)

    def pop_dispatch(self, rng):
        with self.lock:
            ready = [c for c, q in self.to_dispatch.items() if q]
            if not ready:
                return None
            c = rng.choice(ready)
            return c, self.to_dispatch[c].popleft()

    def pop_complete(self):
        with self.lock:
            return self.to_complete.popleft() if self.to_complete else None

    def push_complete(self, item):
        with self.lock:
            self.to_complete.append(item)


def run_phase(url, clients, kind, workload, duration, requests, seed):
    """Run ``clients`` threads until ``duration`` seconds pass or ``requests`` are sent.
    ``kind`` is "healthz", "houses" or "mix". Returns (recorders, elapsed seconds)."""
    stop_at = time.monotonic() + duration if duration else None
    sent = [0]
    sent_lock = threading.Lock()
    recorders = [Recorder() for _ in range(clients)]
    ops = list(MIX)
    weights = [MIX[o] for o in ops]
    variant_names = list(workload.variants) if workload else []
    variant_weights = [workload.variants[v][0] for v in variant_names] if workload else []
    start_barrier = threading.Barrier(clients + 1)

    def budget(n=1) -> bool:
        if stop_at is not None and time.monotonic() >= stop_at:
            return False
        if requests is not None:
            with sent_lock:
                if sent[0] >= requests:
                    return False
                sent[0] += n
        return True

    def client(index):
        rec = recorders[index]
        try:
            client_loop(index, rec)
        except Exception as exc:  # a dead client would silently lower the concurrency
            rec.errors.append(("client thread died", "", 0, repr(exc)))
            raise

    def client_loop(index, rec):
        rng = random.Random(seed * 1000 + index)
        conn = Connection(url)
        last_submit = None
        start_barrier.wait()
        while True:
            if kind == "healthz":
                if not budget():
                    return
                status, ms, payload, _r = conn.call("GET", "/healthz")
                rec.add("baseline /healthz", "", status, ms, payload)
                continue
            if kind == "houses":
                if not budget():
                    return
                c = rng.randrange(len(workload.communities))
                token = workload.communities[c]["dispatcher"]["token"]
                status, ms, payload, _r = conn.call("GET", f"{API}/houses", token)
                rec.add("baseline houses p.1", "", status, ms, payload)
                continue
            op = rng.choices(ops, weights)[0]
            if op == "submit":
                if not budget():
                    return
                if last_submit is not None and rng.random() < REPLAY_SHARE:
                    token, key, body = last_submit
                    status, ms, payload, replayed = conn.call(
                        "POST",
                        f"{API}/work-orders",
                        token,
                        body,
                        {"Idempotency-Key": key},
                    )
                    rec.add("submit (replay)", "", status, ms, payload)
                    if status == 201 and not replayed:
                        rec.replays_missed += 1
                    continue
                resident = rng.choice(workload.residents)
                body = {
                    "category_id": rng.choice(workload.categories),
                    "house_id": resident["house_id"],
                    "description": rng.choice(DESCRIPTIONS),
                    "channel": "api",
                    "preferred_time": "工作日晚上",
                }
                key = str(uuid.uuid4())
                status, ms, payload, _r = conn.call(
                    "POST", f"{API}/work-orders", resident["token"], body, {"Idempotency-Key": key}
                )
                rec.add("submit", "", status, ms, payload)
                last_submit = (resident["token"], key, body)
            elif op == "list":
                if not budget():
                    return
                c = rng.randrange(len(workload.communities))
                name = rng.choices(variant_names, variant_weights)[0]
                query = urllib.parse.urlencode(workload.variants[name][1], doseq=True)
                path = f"{API}/work-orders" + (f"?{query}" if query else "")
                token = workload.communities[c]["dispatcher"]["token"]
                status, ms, payload, _r = conn.call("GET", path, token)
                rec.add("list", name, status, ms, payload)
            elif op == "dispatch":
                picked = workload.pop_dispatch(rng)
                if picked is None:
                    workload.exhausted["dispatch"] += 1
                    if not budget(0):
                        return
                    continue
                if not budget():
                    return
                c, (order_id, complaint) = picked
                community = workload.communities[c]
                desk = community["supervisor" if complaint else "dispatcher"]
                t = rng.randrange(len(community["technicians"]))
                status, ms, payload, _r = conn.call(
                    "POST",
                    f"{API}/work-orders/{order_id}/dispatch",
                    desk["token"],
                    {"assignee_id": community["technicians"][t]["staff_id"], "note": "请尽快处理"},
                )
                rec.add("dispatch", "", status, ms, payload)
                if status == 200:
                    workload.push_complete((order_id, c, t))
            else:  # complete chain: take, arrive, complete
                picked = workload.pop_complete()
                if picked is None:
                    workload.exhausted["complete"] += 1
                    if not budget(0):
                        return
                    continue
                if not budget(3):
                    return
                order_id, c, t = picked
                token = workload.communities[c]["technicians"][t]["token"]
                total = 0.0
                steps = (
                    ("take", None),
                    ("arrive", None),
                    ("complete", {"resolution": "已修复，现场测试正常", "materials": []}),
                )
                for step, body in steps:
                    status, ms, payload, _r = conn.call(
                        "POST", f"{API}/work-orders/{order_id}/{step}", token, body or {}
                    )
                    rec.add(step, "", status, ms, payload)
                    total += ms
                    if status != 200:
                        break
                else:
                    rec.add("complete chain (3 req.)", "", 200, total)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    return recorders, time.monotonic() - started


# --- CPU accounting -----------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(ppid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                    kids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return kids


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


class CpuMeter:
    """CPU used during a phase by the gunicorn workers, by the PostgreSQL backends
    serving the benchmark database, by this client, and by everything else.

    Backends come and go (``CONN_MAX_AGE`` closes a worker's connection after 60 s), so
    a thread samples every process's CPU twice a second and keeps the last value seen:
    a process that exits loses at most half a second of accounting."""

    def __init__(self, server_pid: int | None, database_url: str):
        self.server_pid = server_pid
        self.database_url = database_url
        self.database = urllib.parse.urlsplit(database_url).path.lstrip("/")

    def _sample(self) -> dict:
        seen = {}
        if self.server_pid:
            for pid in _children(self.server_pid):
                seen["gunicorn", pid] = _proc_cpu(pid)
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.database,),
        ).fetchall()
        for (pid,) in rows:
            seen["postgres", pid] = _proc_cpu(pid)
        return seen

    def _loop(self) -> None:
        while not self.done.wait(0.5):
            for key, value in self._sample().items():
                self.last[key] = max(value, self.last.get(key, 0.0))

    def start(self) -> None:
        import psycopg

        self.conn = psycopg.connect(self.database_url, autocommit=True)
        self.base = self._sample()
        self.last = dict(self.base)
        self.client = time.process_time()
        self.machine = _machine()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        for key, value in self._sample().items():
            self.last[key] = max(value, self.last.get(key, 0.0))
        self.conn.close()
        busy, total = (a - b for a, b in zip(_machine(), self.machine, strict=True))

        def used(kind):
            return sum(v - self.base.get(k, 0.0) for k, v in self.last.items() if k[0] == kind)

        out = {
            "gunicorn_s": used("gunicorn"),
            "postgres_s": used("postgres"),
            "client_s": time.process_time() - self.client,
            "machine_busy_s": busy,
            "machine_total_s": total,
        }
        out["others_s"] = max(0.0, busy - out["gunicorn_s"] - out["postgres_s"] - out["client_s"])
        return out


# --- figures --------------------------------------------------------------------
def summarise(samples, elapsed) -> dict:
    ms = [s[3] for s in samples]
    ok = [s for s in samples if 200 <= s[2] < 300]
    row = {
        "requests": len(samples),
        "ok": len(ok),
        "conflicts_409": sum(1 for s in samples if s[2] == 409),
        "errors": sum(1 for s in samples if not 200 <= s[2] < 300 and s[2] != 409),
        "rps": len(samples) / elapsed if elapsed else 0.0,
    }
    if len(ms) >= 2:
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        row.update(p50=cuts[49], p95=cuts[94], p99=cuts[98], max=max(ms), mean=statistics.mean(ms))
    elif ms:
        row.update(p50=ms[0], p95=ms[0], p99=ms[0], max=ms[0], mean=ms[0])
    return row


def table(rows, baseline_p95) -> str:
    head = (
        f"{'operation':<30}{'requests':>9}{'non-2xx':>8}{'409':>5}{'req/s':>8}"
        f"{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'p95/base':>9}"
    )
    lines = [head, "-" * len(head)]
    for name, r in rows:
        if not r["requests"]:
            continue
        ratio = r["p95"] / baseline_p95 if baseline_p95 else float("nan")
        lines.append(
            f"{name:<30}{r['requests']:>9,}{r['errors']:>8}{r['conflicts_409']:>5}"
            f"{r['rps']:>8.1f}{r['p50']:>8.1f}{r['p95']:>8.1f}{r['p99']:>8.1f}{r['max']:>8.0f}"
            f"{ratio:>9.1f}"
        )
    return "\n".join(lines)


# --- pools and in-process analysis ------------------------------------------------------
def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()


def load_pools(info, rng) -> dict:
    """Orders waiting for dispatch per community and orders dispatched to a technician,
    read from the database (earlier runs used some up)."""
    from wuye.workorders.models import WorkOrder

    index = {c["id"]: i for i, c in enumerate(info["communities"])}
    tech_index = {
        t["staff_id"]: (i, k)
        for i, c in enumerate(info["communities"])
        for k, t in enumerate(c["technicians"])
    }
    to_dispatch = {i: [] for i in range(len(info["communities"]))}
    for pk, community_id, kind in WorkOrder.objects.filter(
        status="accepted", assignee__isnull=True
    ).values_list("id", "community_id", "request_type"):
        to_dispatch[index[community_id]].append((pk, kind == "complaint"))
    to_complete = [
        (pk, *tech_index[assignee])
        for pk, assignee in WorkOrder.objects.filter(
            status="dispatched", assignee_id__in=list(tech_index)
        ).values_list("id", "assignee_id")
    ]
    for queue in to_dispatch.values():
        rng.shuffle(queue)
    rng.shuffle(to_complete)
    return {
        "to_dispatch": {c: collections.deque(q) for c, q in to_dispatch.items()},
        "to_complete": collections.deque(to_complete),
    }


class QueryTimer:
    """Times every query Django runs while installed (``connection.execute_wrapper``)."""

    def __init__(self):
        self.queries = []  # (ms, sql as sent)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            cursor = context["cursor"]
            sent = cursor.db.ops.last_executed_query(cursor, sql, params)
            self.queries.append((elapsed, sent))


def explain_summary(sql: str, setting: str | None = None, repeat: int = 5) -> dict:
    """Median planning and execution time of ``EXPLAIN (ANALYZE, SUMMARY)``, in a
    rolled-back transaction (``setting`` is applied with SET LOCAL)."""
    from django.db import connection, transaction

    planning, execution, plan = [], [], []
    with transaction.atomic(), connection.cursor() as cursor:
        if setting:
            cursor.execute(f"SET LOCAL {setting}")
        for _ in range(repeat):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SUMMARY) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
            for line in plan:
                if line.startswith("Planning Time:"):
                    planning.append(float(line.split()[2]))
                elif line.startswith("Execution Time:"):
                    execution.append(float(line.split()[2]))
        transaction.set_rollback(True)
    return {
        "planning_ms": statistics.median(planning),
        "execution_ms": statistics.median(execution),
        "plan": plan,
    }


def analyse(info, workload) -> dict:
    """Run each operation once in-process (rolled back): its query count and SQL time,
    and for its slowest SELECT the planning and execution time from EXPLAIN ANALYZE."""
    from django.db import connection, transaction
    from django.test import Client as DjangoClient

    community = info["communities"][0]
    desk = community["dispatcher"]["token"]
    results = {}

    def record(name, response, timer, started):
        total = (time.perf_counter() - started) * 1000
        slowest = max((q for q in timer.queries if q[1].startswith("SELECT")), key=lambda q: q[0])
        results[name] = {
            "status": response.status_code,
            "queries": len(timer.queries),
            "request_ms": total,
            "sql_ms": sum(q[0] for q in timer.queries),
            "slowest_ms": slowest[0],
            "slowest_sql": slowest[1],
            "sql": [f"{ms:.2f} ms  {sql}" for ms, sql in timer.queries],
        }

    def call(client, method, path, body=None, headers=None):
        if method == "GET":
            return client.get(path, headers=headers)
        return client.post(
            path, json.dumps(body or {}), content_type="application/json", headers=headers
        )

    def run(name, token, method, path, body=None, headers=None):
        client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {token}")
        call(client, "GET", "/healthz")  # warm the connection
        with transaction.atomic():
            timer = QueryTimer()
            started = time.perf_counter()
            with connection.execute_wrapper(timer):
                response = call(client, method, path, body, headers)
            record(name, response, timer, started)
            transaction.set_rollback(True)

    for name, (_weight, query) in workload.variants.items():
        qs = urllib.parse.urlencode(query, doseq=True)
        path = f"{API}/work-orders" + (f"?{qs}" if qs else "")
        run(f"list: {name}", desk, "GET", path)  # once to warm caches
        run(f"list: {name}", desk, "GET", path)
    resident = next(r for r in info["residents"] if r["community_id"] == community["id"])
    run(
        "submit",
        resident["token"],
        "POST",
        f"{API}/work-orders",
        {
            "category_id": info["submit_category_ids"][0],
            "house_id": resident["house_id"],
            "description": "分析：水管漏水",
        },
        {"Idempotency-Key": str(uuid.uuid4())},
    )
    pending = [x for x in workload.to_dispatch[0] if not x[1]]
    if pending:
        run(
            "dispatch",
            desk,
            "POST",
            f"{API}/work-orders/{pending[0][0]}/dispatch",
            {"assignee_id": community["technicians"][0]["staff_id"]},
        )
    chain = next((x for x in workload.to_complete if x[1] == 0), None)
    if chain is not None:
        order_id, _c, t = chain
        client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {community['technicians'][t]['token']}")
        # Each step rolled back alone would not see the one before: one outer transaction.
        with transaction.atomic():
            for step, body in (
                ("take", {}),
                ("arrive", {}),
                ("complete", {"resolution": "分析", "materials": []}),
            ):
                timer = QueryTimer()
                started = time.perf_counter()
                with connection.execute_wrapper(timer):
                    response = call(client, "POST", f"{API}/work-orders/{order_id}/{step}", body)
                record(step, response, timer, started)
            transaction.set_rollback(True)
    for result in results.values():
        result.update(explain_summary(result["slowest_sql"]))
    first = results.get("list: first page")
    if first:
        fixed = explain_summary(first["slowest_sql"], "join_collapse_limit = 1")
        first["with_join_collapse_limit_1"] = {k: fixed[k] for k in ("planning_ms", "execution_ms")}
    return results


def short_sql(sql: str) -> str:
    """The page query without its column list."""
    head, sep, rest = sql.partition(" FROM ")
    return f"SELECT … FROM {rest}" if sep and head.startswith("SELECT") else sql


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=OUT_DIR / "http_workorders.json")
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--bind", default="127.0.0.1:8150")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--requests", type=int, help="requests per phase instead of --duration")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of uncounted mix")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-analysis", action="store_true", help="skip query counts/EXPLAIN")
    parser.add_argument(
        "--with-worker", action="store_true", help="also run `wuye worker` (notification tasks)"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the server, e.g. PGOPTIONS='-c join_collapse_limit=1'",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=OUT_DIR / "http_workorders_result.json")
    args = parser.parse_args(argv)
    duration = None if args.requests else args.duration

    info = json.loads(args.settings.read_text())
    if any("supervisor" not in c for c in info["communities"]):
        sys.exit(f"{args.settings} is from an older generator: rerun gen_workorders.py --recreate")
    setup_django(info["database_url"])
    rng = random.Random(args.seed)
    pools = load_pools(info, rng)
    workload = Workload(info, pools, args.seed)
    print(
        f"{sum(len(q) for q in pools['to_dispatch'].values()):,} orders to dispatch, "
        f"{len(pools['to_complete']):,} to complete; {args.clients} clients, "
        f"{args.workers} gunicorn workers, "
        + (f"{args.requests:,} requests" if args.requests else f"{args.duration:.0f} s")
        + " per phase",
        flush=True,
    )
    from django.db import connection

    connection.close()

    server = worker = None
    if args.url is None:
        extra_env = dict(item.split("=", 1) for item in args.server_env)
        server = start_server(
            args.bind, info["database_url"], args.workers, OUT_DIR / "http_server.log", extra_env
        )
        args.url = f"http://{args.bind}"
    if args.with_worker:
        env = {**os.environ, "DATABASE_URL": info["database_url"], "DEBUG": "0"}
        worker = start_process(
            [sys.executable, "-m", "wuye.cli", "worker"], env, OUT_DIR / "http_worker.log"
        )
    meter = CpuMeter(server.pid if server else None, info["database_url"])
    phases, cpu = {}, {}

    def measured(name, kind, seed):
        meter.start()
        phases[name] = run_phase(
            args.url, args.clients, kind, workload, duration, args.requests, seed
        )
        cpu[name] = meter.stop()
        print(f"phase {name}: {phases[name][1]:.1f} s", flush=True)

    try:
        if not args.no_baseline:
            for kind in ("healthz", "houses"):
                run_phase(args.url, args.clients, kind, workload, 2.0, None, args.seed)  # warm
                measured(kind, kind, args.seed)
        if args.warmup:
            run_phase(args.url, args.clients, "mix", workload, args.warmup, None, args.seed + 1)
        measured("mix", "mix", args.seed + 2)
    finally:
        stop(worker)
        stop(server)

    rows = []
    baseline_p95 = None
    for kind in ("healthz", "houses"):
        if kind in phases:
            recorders, elapsed = phases[kind]
            samples = [s for r in recorders for s in r.samples]
            row = summarise(samples, elapsed)
            rows.append((samples[0][0], row))
            if kind == "healthz":
                baseline_p95 = row["p95"]
    recorders, elapsed = phases["mix"]
    samples = [s for r in recorders for s in r.samples]
    by_op = collections.defaultdict(list)
    for s in samples:
        by_op[s[0]].append(s)
        if s[0] == "list":
            by_op[f"  list: {s[1]}"].append(s)
    requests_only = [s for s in samples if s[0] != "complete chain (3 req.)"]
    order = [
        "submit",
        "submit (replay)",
        "list",
        *(f"  list: {v}" for v in LIST_VARIANTS),
        "dispatch",
        "take",
        "arrive",
        "complete",
        "complete chain (3 req.)",
    ]
    for name in order:
        if name in by_op:
            rows.append((name, summarise(by_op[name], elapsed)))
    rows.append(("all mixed requests", summarise(requests_only, elapsed)))
    errors = [e for r in recorders for e in r.errors]
    replays_missed = sum(r.replays_missed for r in recorders)

    print()
    print(
        f"Mixed work-order workload: {args.clients} clients, gunicorn {args.workers} sync "
        f"workers, {info['orders']:,} existing orders, {info['houses']:,} houses; "
        f"mix phase {elapsed:.1f} s; milliseconds"
    )
    print(table(rows, baseline_p95))
    print(
        "\nCPU per request (ms) by phase — gunicorn workers, PostgreSQL backends, this "
        "client —\nand the share of the machine's 2 cores other processes used meanwhile:"
    )
    for name, used in cpu.items():
        recorders_ = phases[name][0]
        n = sum(1 for r in recorders_ for s in r.samples if s[0] != "complete chain (3 req.)")
        used["requests"] = n
        share = used["others_s"] / used["machine_total_s"] if used["machine_total_s"] else 0
        print(
            f"  {name:<8} gunicorn {used['gunicorn_s'] * 1000 / n:6.1f}  postgres "
            f"{used['postgres_s'] * 1000 / n:6.1f}  client {used['client_s'] * 1000 / n:5.1f}"
            f"   others used {share:4.0%} of the machine"
        )
    if workload.exhausted:
        print(f"pools ran dry (operations skipped): {dict(workload.exhausted)}")
    conflicts = [e for e in errors if e[2] == 409]
    real_errors = [e for e in errors if e[2] != 409]
    print(f"409 conflicts: {len(conflicts)}; other non-2xx: {len(real_errors)}")
    for op, variant, status, body in (conflicts + real_errors)[:10]:
        print(f"  {op} {variant} {status}: {body[:200]}")
    if replays_missed:
        print(f"REPLAY MISSED: {replays_missed} resent submits were not replayed")

    analysis = {}
    if not args.no_analysis:
        setup_django(info["database_url"])
        analysis = analyse(info, workload)
        print(
            "\nIn-process, one request each (rolled back), milliseconds: queries, request "
            "time, SQL time,\nand the slowest SELECT's time with its EXPLAIN ANALYZE "
            "planning / execution split:"
        )
        print(
            f"  {'operation':<24}{'queries':>8}{'request':>9}{'SQL':>7}{'slowest':>9}"
            f"{'planning':>10}{'execution':>11}"
        )
        for name, r in analysis.items():
            print(
                f"  {name:<24}{r['queries']:>8}{r['request_ms']:>9.1f}{r['sql_ms']:>7.1f}"
                f"{r['slowest_ms']:>9.1f}{r['planning_ms']:>10.2f}{r['execution_ms']:>11.2f}"
                f"  (HTTP {r['status']})"
            )
        first = analysis.get("list: first page")
        if first:
            fixed = first["with_join_collapse_limit_1"]
            print(
                f"  list page query with SET join_collapse_limit = 1: planning "
                f"{fixed['planning_ms']:.2f} ms, execution {fixed['execution_ms']:.2f} ms"
            )
            print(f"\n-- list: first page, slowest query\n{short_sql(first['slowest_sql'])}")
            print("\n".join("   " + line for line in first["plan"]))

    args.out.write_text(
        json.dumps(
            {
                "clients": args.clients,
                "workers": args.workers,
                "rows": [{"operation": n, **r} for n, r in rows],
                "errors": errors[:200],
                "exhausted": dict(workload.exhausted),
                "cpu": cpu,
                "analysis": analysis,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print(f"\nwritten to {args.out}")
    return 1 if real_errors or replays_missed else 0  # a dead thread is a status-0 error


if __name__ == "__main__":
    sys.exit(main())
