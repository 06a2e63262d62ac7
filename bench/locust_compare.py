"""Locust users for the Wuye / django-helpdesk comparison (run by
``bench/helpdesk_compare.py``): the same three operations, equally weighted, against one
system at a time — pick the user class on the command line (``WuyeDesk`` or
``HelpdeskDesk``).

- create — Wuye: a resident's ``POST /api/v1/work-orders`` with an ``Idempotency-Key``;
  django-helpdesk: ``POST /tickets/submit/`` (the staff "new ticket" form).
- list open — Wuye: the community dispatcher's ``GET /api/v1/work-orders`` of open
  orders (submitted … paused), first page (50 rows); django-helpdesk: the DataTables
  AJAX call ``GET /datatables_ticket_list/<query>`` that its ticket list page makes, for
  the queue's open tickets (Open, Reopened), first 50 rows.
- update status — Wuye: ``POST /work-orders/{id}/dispatch`` of an accepted order to a
  technician (accepted → dispatched); django-helpdesk: ``POST /tickets/{id}/update/``
  with a comment, owner = a technician and status Open → Resolved.

Each user stays with one community / queue. Orders and tickets to update are read from
each database at start and handed out once each. Success is 200/201 for Wuye, the 302
redirect to the ticket for django-helpdesk's form posts (a 200 there is the form coming
back with errors, counted as a failure); redirects are not followed.

Options: ``--bench-settings`` (Wuye, ``bench/out/http_workorders.json``),
``--helpdesk-settings`` (``bench/out/helpdesk.json``), ``--think LO-HI`` (default 0:
saturation), ``--warmup S`` (statistics reset after S seconds), ``--seed``.
"""

import collections
import json
import random
import secrets
import string
import time
import urllib.parse
import uuid
from pathlib import Path

import gevent
from locust import FastHttpUser, events, task

OUT = Path(__file__).resolve().parent / "out"
API = "/api/v1"
WUYE_OPEN = ("submitted", "accepted", "dispatched", "taken", "in_progress", "paused")
DESCRIPTIONS = (
    "厨房水管漏水，楼下天花板渗水",
    "卫生间马桶堵塞，冲不下去",
    "客厅灯不亮，开关没反应",
    "入户门锁坏了",
    "楼道灯不亮",
)
# The columns ticket_list.html declares, sent by DataTables with every AJAX call.
DT_COLUMNS = (
    ("id", "false"),
    ("ticket", "true"),
    ("priority", "true"),
    ("queue", "true"),
    ("status", "true"),
    ("created", "true"),
    ("due_date", "true"),
    ("assigned_to", "true"),
    ("submitter", "true"),
    ("last_followup", "true"),
)


class Shared:
    wuye: dict = {}
    helpdesk: dict = {}
    wuye_pool: dict[int, collections.deque] = {}
    helpdesk_pool: dict[int, collections.deque] = {}
    think = (0.0, 0.0)
    rng = random.Random(11)
    seq = collections.Counter()
    idle = collections.Counter()


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--bench-settings", default=str(OUT / "http_workorders.json"))
    parser.add_argument("--helpdesk-settings", default=str(OUT / "helpdesk.json"))
    parser.add_argument("--think", default="0", help="LO-HI seconds; 0 = saturation")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=11)


def _wuye_pool(info: dict) -> dict:
    import psycopg

    index = {c["id"]: i for i, c in enumerate(info["communities"])}
    pool = {i: [] for i in index.values()}
    with psycopg.connect(info["database_url"]) as conn:
        for pk, community_id, kind in conn.execute(
            "SELECT id, community_id, request_type FROM workorders_workorder "
            "WHERE status = 'accepted' AND assignee_id IS NULL"
        ):
            if community_id in index:
                pool[index[community_id]].append((pk, kind == "complaint"))
    return pool


def _helpdesk_pool(info: dict) -> dict:
    import psycopg

    index = {q["id"]: i for i, q in enumerate(info["queues"])}
    pool = {i: [] for i in index.values()}
    with psycopg.connect(info["database_url"]) as conn:
        for pk, queue_id, title in conn.execute(
            "SELECT id, queue_id, title FROM helpdesk_ticket "
            "WHERE status = 1 AND assigned_to_id IS NULL AND NOT on_hold"
        ):
            if queue_id in index:
                pool[index[queue_id]].append((pk, title))
    return pool


@events.init.add_listener
def _init(environment, **_kwargs):
    options = environment.parsed_options
    if options is None:
        return
    Shared.rng = random.Random(options.seed)
    lo, _sep, hi = options.think.partition("-")
    Shared.think = (float(lo), float(hi or lo))
    names = {cls.__name__ for cls in environment.user_classes}
    if "WuyeDesk" in names:
        Shared.wuye = json.loads(Path(options.bench_settings).read_text())
        pool = _wuye_pool(Shared.wuye)
        for queue in pool.values():
            Shared.rng.shuffle(queue)
        Shared.wuye_pool = {c: collections.deque(q) for c, q in pool.items()}
        print(f"pools: Wuye {sum(len(q) for q in pool.values()):,} orders to dispatch", flush=True)
    if "HelpdeskDesk" in names:
        Shared.helpdesk = json.loads(Path(options.helpdesk_settings).read_text())
        pool = _helpdesk_pool(Shared.helpdesk)
        for queue in pool.values():
            Shared.rng.shuffle(queue)
        Shared.helpdesk_pool = {q: collections.deque(t) for q, t in pool.items()}
        print(
            f"pools: django-helpdesk {sum(len(q) for q in pool.values()):,} open tickets to update",
            flush=True,
        )


@events.test_start.add_listener
def _start(environment, **_kwargs):
    options = environment.parsed_options
    if not options or not options.warmup or environment.runner is None:
        return

    def reset():
        gevent.sleep(options.warmup)
        environment.runner.stats.reset_all()
        Shared.idle.clear()
        print("warm-up over: statistics reset", flush=True)

    gevent.spawn(reset)


@events.quitting.add_listener
def _quitting(environment, **_kwargs):
    print(f"skipped for an empty pool: {dict(Shared.idle)}", flush=True)


def think(user) -> float:
    lo, hi = Shared.think
    return Shared.rng.uniform(lo, hi) if hi else 0.0


def finish(response, expected: tuple[int, ...]) -> bool:
    with response:
        if response.status_code not in expected:
            response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
            return False
        response.success()
        return True


class WuyeDesk(FastHttpUser):
    wait_time = think

    def on_start(self):
        communities = Shared.wuye["communities"]
        self.c = Shared.seq["wuye"] % len(communities)
        Shared.seq["wuye"] += 1
        self.community = communities[self.c]
        self.residents = [
            r for r in Shared.wuye["residents"] if r["community_id"] == self.community["id"]
        ]
        query = urllib.parse.urlencode({"status": WUYE_OPEN}, doseq=True)
        self.list_path = f"{API}/work-orders?{query}"

    def _call(self, method, path, token, name, body=None, headers=None):
        headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        kwargs = {"json": body} if body is not None else {}
        return self.client.request(
            method, path, name=name, headers=headers, catch_response=True, **kwargs
        )

    @task
    def create(self):
        resident = Shared.rng.choice(self.residents)
        body = {
            "category_id": Shared.rng.choice(Shared.wuye["submit_category_ids"]),
            "house_id": resident["house_id"],
            "description": Shared.rng.choice(DESCRIPTIONS),
            "channel": "api",
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        response = self._call(
            "POST", f"{API}/work-orders", resident["token"], "create", body, headers
        )
        finish(response, (201,))

    @task
    def list_open(self):
        token = self.community["dispatcher"]["token"]
        finish(self._call("GET", self.list_path, token, "list open"), (200,))

    @task
    def update(self):
        queue = Shared.wuye_pool.get(self.c)
        if not queue:
            Shared.idle["update"] += 1
            return self.list_open()
        order_id, complaint = queue.popleft()
        desk = self.community["supervisor" if complaint else "dispatcher"]
        tech = Shared.rng.choice(self.community["technicians"])
        response = self._call(
            "POST",
            f"{API}/work-orders/{order_id}/dispatch",
            desk["token"],
            "update status",
            {"assignee_id": tech["staff_id"], "note": "请尽快处理"},
        )
        finish(response, (200,))


class HelpdeskDesk(FastHttpUser):
    wait_time = think

    def on_start(self):
        queues = Shared.helpdesk["queues"]
        n = Shared.seq["helpdesk"]
        Shared.seq["helpdesk"] += 1
        self.q = n % len(queues)
        self.queue = queues[self.q]
        session = self.queue["sessions"][(n // len(queues)) % len(self.queue["sessions"])]
        # Django's CSRF check is double submit: the cookie's secret and the form's token.
        self.csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        self.cookie = f"sessionid={session}; csrftoken={self.csrf}"
        self.draw = 0

    def _get(self, path, name):
        headers = {"Cookie": self.cookie, "X-Requested-With": "XMLHttpRequest"}
        return self.client.request("GET", path, name=name, headers=headers, catch_response=True)

    def _post(self, path, name, form):
        headers = {
            "Cookie": self.cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"{self.host}{path}",
        }
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf, **form})
        return self.client.request(
            "POST",
            path,
            name=name,
            headers=headers,
            data=data,
            catch_response=True,
            allow_redirects=False,
        )

    @task
    def create(self):
        text = Shared.rng.choice(DESCRIPTIONS)
        form = {
            "queue": self.queue["id"],
            "title": text[:20],
            "body": text,
            "priority": 3,
            "due_date": "",
            "submitter_email": f"resident{Shared.rng.randrange(2000):04d}@example.com",
            "assigned_to": "",
        }
        finish(self._post("/tickets/submit/", "create", form), (302,))

    @task
    def list_open(self):
        self.draw += 1
        params = [("draw", self.draw)]
        for i, (data, orderable) in enumerate(DT_COLUMNS):
            params += [
                (f"columns[{i}][data]", data),
                (f"columns[{i}][name]", ""),
                (f"columns[{i}][searchable]", "true"),
                (f"columns[{i}][orderable]", orderable),
                (f"columns[{i}][search][value]", ""),
                (f"columns[{i}][search][regex]", "false"),
            ]
        params += [
            ("start", 0),
            ("length", Shared.helpdesk.get("page_length", 50)),
            ("search[value]", ""),
            ("search[regex]", "false"),
            ("_", int(time.time() * 1000)),
        ]
        path = f"{self.queue['datatables_path']}?{urllib.parse.urlencode(params)}"
        finish(self._get(path, "list open"), (200,))

    @task
    def update(self):
        queue = Shared.helpdesk_pool.get(self.q)
        if not queue:
            Shared.idle["update"] += 1
            return self.list_open()
        ticket_id, title = queue.popleft()
        form = {
            "comment": "请尽快处理",
            "new_status": 3,  # Resolved
            "public": 1,
            "time_spent": "",
            "title": title,
            "owner": Shared.rng.choice(Shared.helpdesk["technician_ids"]),
            "priority": 3,
            "queue": self.queue["id"],
            "due_date": "",
        }
        finish(self._post(f"/tickets/{ticket_id}/update/", "update status", form), (302,))
