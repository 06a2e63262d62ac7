"""Server CPU per request of the compared work-order operations, in-process (issue 8).

Throughput on this shared 2-core machine moves with the others' load; the Python CPU a
request costs (``time.process_time``) moves much less, and it is what decides how many
requests two idle cores serve. This runs each operation of the django-helpdesk
comparison (``bench/locust_compare.py``) and of the mixed workload
(``bench/locust_workorders.py``) through Django's test client — the whole middleware
stack, bearer-token auth, django-ninja, no socket and no gunicorn — ``--requests`` times
after ``--warmup`` uncounted ones, and prints per operation the CPU ms and the queries
per request, with two baselines measured in the same run:

- ``/healthz`` (one ``SELECT 1``): the stack's fixed cost;
- the **floor**: the open-orders page's 51 rows (same scope, filter and order) fetched with
  ``.values()`` and ``json.dumps``-ed by a bare view added to the URLconf for the run — what
  a page of 50 orders costs with no ORM instances, schema or auth.

The data set is ``bench/gen_workorders.py``'s, smaller (10 communities, 5,000 houses,
20,000 orders), in the database ``cpu_bench``; it is generated on the first run (~1 min)
and reused afterwards. Writes commit, as in production (after-commit hooks run): dispatch
takes accepted orders (residents submit and the desk accepts more, not timed, when the
queue runs short, so the command can be rerun), take/arrive/complete the orders it
dispatched.

    uv run python bench/cpu_per_request.py                    # ~1 min, + ~1 min the first time
    uv run python bench/cpu_per_request.py --requests 200 --profile "list open"
    # options: --requests 100, --warmup 10, --recreate, --database cpu_bench,
    #          --profile OP (CPU profile of that operation: top 80 by cumulative, 25 by own
    #          time), --json FILE
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_workorders  # a sibling script, not a package

API = "/api/v1"
OUT_DIR = Path(__file__).resolve().parent / "out"
OPEN = ("submitted", "accepted", "dispatched", "taken", "in_progress", "paused")
DATA_ARGS = [
    "--communities", "10", "--houses", "5000", "--residents", "1000",
    "--technicians", "50", "--orders", "20000",
]  # fmt: skip


# --- data set ---------------------------------------------------------------------------
def database_exists(name: str) -> bool:
    with psycopg.connect(f"{gen_workorders.SERVER_URL}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def load_data(args) -> dict:
    """The data set's ids and tokens; generated first if missing (or ``--recreate``)."""
    # A run submits hundreds of requests from a few hundred residents: lift the
    # per-resident limits (the check itself still runs and is measured).
    os.environ.setdefault("WORKORDER_SUBMIT_PER_HOUR", "1000000")
    os.environ.setdefault("WORKORDER_SUBMIT_PER_DAY", "1000000")
    out = OUT_DIR / f"{args.database}.json"
    if args.recreate or not out.exists() or not database_exists(args.database):
        gen_args = [*DATA_ARGS, "--database", args.database, "--out", str(out), "--recreate"]
        gen_workorders.main(gen_args)  # also sets Django up
    else:
        gen_workorders.setup_django(f"{gen_workorders.SERVER_URL}/{args.database}")
    return json.loads(out.read_text())


# --- the floor: a page of 50 open orders with no ORM instances and no schema ------------
FLOOR_FIELDS = (
    "id", "number", "company_id", "community_id", "community__name", "house_id",
    "common_area_id", "request_type", "category_id", "category__name", "dispatch_mode",
    "channel", "urgency", "priority", "status", "assignee_id", "assignee__name",
    "description", "submitted_at", "urge_count", "sla_state", "close_reason",
)  # fmt: skip


def install_floor_view(community_id: int) -> str:
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    from wuye import urls
    from wuye.workorders.models import WorkOrder

    def floor(request):
        rows = WorkOrder.objects.filter(community_id=community_id, status__in=OPEN)
        rows = list(rows.order_by("-id").values(*FLOOR_FIELDS)[:51])
        body = json.dumps({"items": rows[:50]}, default=str, ensure_ascii=False)
        return HttpResponse(body, content_type="application/json")

    urls.urlpatterns.insert(0, path("bench/floor", floor))
    clear_url_caches()
    return "/bench/floor"


# --- operations -------------------------------------------------------------------------
class Operations:
    """One callable per operation; each call is one request (or the untimed set-up a
    write needs before it). Writes use up orders, so the queues are read at start."""

    def __init__(self, info):
        from django.test import Client

        self.info = info
        self.community = info["communities"][0]
        self.client = Client
        self.handler = None  # the one request handler every client shares
        self.desk = self._client(self.community["dispatcher"]["token"])
        self.manager = self._client(info["manager"]["token"])
        # Residents of every community take turns (a resident may submit 10 an hour);
        # the dispatch queue is refilled by the community's own.
        self.residents = info["residents"]
        self.neighbours = [r for r in self.residents if r["community_id"] == self.community["id"]]
        self.technicians = self.community["technicians"]
        self.dispatched: list[tuple[int, int]] = []  # (order id, technician index)
        self.taken: list[tuple[int, int]] = []
        self.arrived: list[tuple[int, int]] = []
        self.turn = 0
        self.floor_path = install_floor_view(self.community["id"])
        self.list_open = f"{API}/work-orders?" + "&".join(f"status={s}" for s in OPEN)

    def _client(self, token):
        """A client per caller, all on one handler: a test client builds the middleware on
        its first request (WhiteNoise then lists every static file), which a server
        process does once at start, not per request."""
        client = self.client(HTTP_AUTHORIZATION=f"Bearer {token}")
        if self.handler is None:
            self.handler = client.handler
        client.handler = self.handler
        return client

    def _next(self, items):
        self.turn += 1
        return items[self.turn % len(items)]

    @staticmethod
    def _ok(response, *codes):
        if response.status_code not in codes:
            raise RuntimeError(f"HTTP {response.status_code}: {response.content[:300]!r}")
        return response

    def _post(self, client, path, body, **headers):
        return client.post(path, json.dumps(body), content_type="application/json", headers=headers)

    def healthz(self):
        self._ok(self.desk.get("/healthz"), 200)

    def floor(self):
        self._ok(self.desk.get(self.floor_path), 200)

    def list_open_orders(self):
        self._ok(self.desk.get(self.list_open), 200)

    def list_first_page(self):
        self._ok(self.desk.get(f"{API}/work-orders"), 200)

    def list_to_dispatch(self):
        self._ok(self.desk.get(f"{API}/work-orders?status=accepted"), 200)

    def submit(self, category_id: int | None = None, residents=None):
        """A resident's request with a fresh Idempotency-Key, in the comparison's
        categories in turn (some dispatch themselves at once, as in the benches)."""
        resident = self._next(residents or self.residents)
        body = {
            "category_id": category_id or self._next(self.info["submit_category_ids"]),
            "house_id": resident["house_id"],
            "description": "卫生间水管漏水，请尽快处理",
            "channel": "api",
            "preferred_time": "工作日晚上",
        }
        client = self._client(resident["token"])
        response = self._post(
            client, f"{API}/work-orders", body, **{"Idempotency-Key": str(uuid.uuid4())}
        )
        return self._ok(response, 201).json()["id"]

    def dispatch(self, order_id: int):
        t = self.turn % len(self.technicians)
        self.turn += 1
        body = {"assignee_id": self.technicians[t]["staff_id"], "note": "请尽快处理"}
        self._ok(self._post(self.desk, f"{API}/work-orders/{order_id}/dispatch", body), 200)
        self.dispatched.append((order_id, t))

    def _step(self, item, step, body, done):
        order_id, t = item
        client = self._client(self.technicians[t]["token"])
        self._ok(self._post(client, f"{API}/work-orders/{order_id}/{step}", body), 200)
        done.append(item)

    def take(self, item):
        self._step(item, "take", {}, self.taken)

    def arrive(self, item):
        self._step(item, "arrive", {}, self.arrived)

    def complete(self, item):
        self._step(item, "complete", {"resolution": "已修复，现场测试正常", "materials": []}, [])

    def dashboard_company(self):
        self._ok(self.manager.get(f"{API}/quality/dashboard"), 200)

    def dashboard_community(self):
        self._ok(self.manager.get(f"{API}/quality/dashboard?community={self.community['id']}"), 200)

    def to_dispatch(self, needed: int) -> list[int]:
        """``needed`` accepted repair orders of the community nobody holds; when there
        are too few, residents submit more in a category the desk dispatches by hand
        and the dispatcher accepts them (not timed), so the command can be rerun."""
        from wuye.accounts.actor import Actor
        from wuye.staff.models import StaffMember
        from wuye.workorders import services
        from wuye.workorders.models import Category, WorkOrder

        pending = list(
            WorkOrder.objects.filter(
                community_id=self.community["id"],
                status="accepted",
                assignee__isnull=True,
                request_type="repair",
            )
            .order_by("id")
            .values_list("id", flat=True)[:needed]
        )
        if len(pending) < needed:
            manual = Category.objects.filter(
                company_id=self.info["company_id"],
                parent__isnull=False,
                request_type="repair",
                dispatch_mode="assign",
            ).first()
            desk = Actor(StaffMember.objects.get(pk=self.community["dispatcher"]["staff_id"]).user)
            for _ in range(needed - len(pending)):
                order = WorkOrder.objects.get(pk=self.submit(manual.pk, self.neighbours))
                services.accept_order(actor=desk, order=order)
                pending.append(order.pk)
        return pending


# --- measuring --------------------------------------------------------------------------
class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(call, items, warmup: int, profile: bool = False) -> dict:
    """CPU ms per request (``time.process_time``) and queries per request of ``call``
    over ``items`` (one request each), after ``warmup`` uncounted ones."""
    from django.db import connection

    for item in items[:warmup]:
        call(item)
    timed = items[warmup:]
    counter = QueryCounter()
    cpu = []
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall
    with connection.execute_wrapper(counter):
        for item in timed:
            started = time.process_time()
            if profiler:
                profiler.enable()
            call(item)
            if profiler:
                profiler.disable()
            cpu.append((time.process_time() - started) * 1000)
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(80)
        stats.sort_stats("tottime").print_stats(25)
    return {
        "requests": len(timed),
        "cpu_ms_mean": statistics.fmean(cpu),
        "cpu_ms_median": statistics.median(cpu),
        # On a busy machine CPU time per request is inflated by the others (shared caches,
        # hyperthread siblings); the fastest tenth is the steadiest figure between runs.
        "cpu_ms_p10": statistics.quantiles(cpu, n=10)[0],
        "queries": counter.count / len(timed),
    }


def run(args, info) -> dict:
    ops = Operations(info)
    n, w = args.requests, args.warmup
    reads = {
        "healthz": ops.healthz,
        "floor (.values + json.dumps)": ops.floor,
        "list open": ops.list_open_orders,
        "list first page": ops.list_first_page,
        "list to dispatch": ops.list_to_dispatch,
        "dashboard company": ops.dashboard_company,
        "dashboard community": ops.dashboard_community,
    }
    results = {}
    for name, call in reads.items():
        count = n if not name.startswith("dashboard") else max(5, n // 10)
        warm = w if not name.startswith("dashboard") else 2
        results[name] = measure(
            lambda _i, c=call: c(), [None] * (count + warm), warm, args.profile == name
        )
    submits = [None] * (n + w)
    results["submit"] = measure(lambda _i: ops.submit(), submits, w, args.profile == "submit")
    pending = ops.to_dispatch(n + w)
    results["dispatch"] = measure(ops.dispatch, pending, w, args.profile == "dispatch")
    for name in ("take", "arrive", "complete"):
        queue = {"take": ops.dispatched, "arrive": ops.taken, "complete": ops.arrived}[name]
        results[name] = measure(getattr(ops, name), list(queue), w, args.profile == name)
    return results


def report(results) -> None:
    floor = results["floor (.values + json.dumps)"]["cpu_ms_mean"]
    healthz = results["healthz"]["cpu_ms_mean"]
    print(f"\n{'operation':<30} {'n':>5} {'CPU ms':>8} {'median':>8} {'p10':>8} {'queries':>8} "
          f"{'÷ floor':>8} {'÷ healthz':>9}")  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:<30} {r['requests']:>5} {r['cpu_ms_mean']:>8.2f} {r['cpu_ms_median']:>8.2f} "
            f"{r['cpu_ms_p10']:>8.2f} "
            f"{r['queries']:>8.1f} {r['cpu_ms_mean'] / floor:>8.2f} "
            f"{r['cpu_ms_mean'] / healthz:>9.1f}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="cpu_bench")
    parser.add_argument("--recreate", action="store_true", help="regenerate the data set")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per operation")
    parser.add_argument("--warmup", type=int, default=10, help="uncounted requests first")
    parser.add_argument("--profile", metavar="OP", help="cProfile this operation")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.database in ("test", "wuye", "postgres"):
        parser.error(f"refusing to use database {args.database!r}: give a scratch name")
    info = load_data(args)
    started = time.monotonic()
    results = run(args, info)
    report(results)
    print(f"\n{time.monotonic() - started:.0f} s; load average {Path('/proc/loadavg').read_text()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
