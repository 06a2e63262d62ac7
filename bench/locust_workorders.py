"""Locust personas for the work-order mixed workload (run by ``bench/http_mixed.py``).

Locust is not a project dependency: run it with ``uv run --with locust``. Reads the data
set of ``bench/gen_workorders.py`` (``bench/out/http_workorders.json``: database URL, ids,
API tokens) and, at start, the orders waiting for dispatch and the orders dispatched to
a technician straight from its database (plain SQL). Each order is handed to one user
only, so a 409 would be a real race, not the benchmark colliding with itself.

Personas (weights = users out of 50), each with its own think time between requests:

- ``Resident`` (12): ``POST /api/v1/work-orders`` as a random resident with a fresh
  ``Idempotency-Key``; one in twenty resends the user's previous submit with the same key
  and body, which must come back 201 with ``Idempotent-Replayed: true``.
- ``Dispatcher`` (20, one per community): a list page (40) — no filter, 待派单
  ``status=accepted``, in hand, complaints, the last 7 days, ``q=漏水`` — or the
  dispatch (15) of one of the community's accepted orders to one of its technicians
  (the service supervisor's token for a complaint); a dispatched order joins the
  technicians' queue.
- ``Technician`` (16): one step per think time on the order in hand — ``take``, then
  ``arrive``, then ``complete`` — then the next dispatched order.
- ``Manager`` (2): the quality dashboard ``GET /api/v1/quality/dashboard``, company-wide
  or one community (half each), with a longer think time (a person reads a dashboard).

Options (after Locust's own): ``--bench-settings PATH``, ``--think LO-HI`` (seconds
between two requests of residents, dispatchers and technicians; ``0`` = saturation, no
think time), ``--manager-think LO-HI`` (default 5-15), ``--warmup S`` (statistics are
reset S seconds after the start), ``--seed``.

    uv run --with locust locust -f bench/locust_workorders.py --headless -u 50 -r 50 \\
        -t 70s --host http://127.0.0.1:8150 --think 0.5-1.5 --warmup 10 --csv bench/out/mixed
"""

import collections
import datetime
import json
import random
import uuid
from pathlib import Path

import gevent
from locust import FastHttpUser, events, task

API = "/api/v1"
DEFAULT_SETTINGS = Path(__file__).resolve().parent / "out" / "http_workorders.json"
LIST_VARIANTS = {  # name -> (weight, query string), as bench/http_workorders.py
    "first page": (30, ""),
    "to dispatch": (25, "status=accepted"),
    "in hand": (15, "status=dispatched&status=taken&status=in_progress"),
    "complaints": (10, "request_type=complaint"),
    "last 7 days": (10, "date_from"),
    "search text": (10, "q=%E6%BC%8F%E6%B0%B4"),  # 漏水
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
STEPS = (
    ("take", {}),
    ("arrive", {}),
    ("complete", {"resolution": "已修复，现场测试正常", "materials": []}),
)


class Shared:
    """The data set and the order pools, shared by every user of this process."""

    info: dict = {}
    to_dispatch: dict[int, collections.deque] = {}
    to_complete: collections.deque = collections.deque()
    think = (0.5, 1.5)
    manager_think = (5.0, 15.0)
    rng = random.Random(11)
    idle = collections.Counter()  # operations skipped because a pool was empty
    dispatcher_seq = 0


def _range(text: str) -> tuple[float, float]:
    lo, _sep, hi = text.partition("-")
    return float(lo), float(hi or lo)


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--bench-settings", default=str(DEFAULT_SETTINGS))
    parser.add_argument("--think", default="0.5-1.5", help="LO-HI seconds, 0 = saturation")
    parser.add_argument("--manager-think", default="5-15", help="LO-HI seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds not counted")
    parser.add_argument("--seed", type=int, default=11)


def load_pools(info: dict, rng: random.Random) -> None:
    import psycopg

    communities = info["communities"]
    index = {c["id"]: i for i, c in enumerate(communities)}
    techs = {
        t["staff_id"]: (i, k)
        for i, c in enumerate(communities)
        for k, t in enumerate(c["technicians"])
    }
    to_dispatch = {i: [] for i in range(len(communities))}
    with psycopg.connect(info["database_url"]) as conn:
        for pk, community_id, kind in conn.execute(
            "SELECT id, community_id, request_type FROM workorders_workorder "
            "WHERE status = 'accepted' AND assignee_id IS NULL"
        ):
            if community_id in index:
                to_dispatch[index[community_id]].append((pk, kind == "complaint"))
        to_complete = [
            (pk, *techs[assignee])
            for pk, assignee in conn.execute(
                "SELECT id, assignee_id FROM workorders_workorder "
                "WHERE status = 'dispatched' AND assignee_id = ANY(%s)",
                (list(techs),),
            )
        ]
    for queue in to_dispatch.values():
        rng.shuffle(queue)
    rng.shuffle(to_complete)
    Shared.to_dispatch = {c: collections.deque(q) for c, q in to_dispatch.items()}
    Shared.to_complete = collections.deque(to_complete)


@events.init.add_listener
def _init(environment, **_kwargs):
    options = environment.parsed_options
    if options is None:  # imported by a tool, not run
        return
    Shared.info = json.loads(Path(options.bench_settings).read_text())
    Shared.rng = random.Random(options.seed)
    Shared.think = _range(options.think)
    Shared.manager_think = _range(options.manager_think)
    load_pools(Shared.info, Shared.rng)
    print(
        f"pools: {sum(len(q) for q in Shared.to_dispatch.values()):,} orders to dispatch, "
        f"{len(Shared.to_complete):,} to complete; think {options.think} s, "
        f"managers {options.manager_think} s, warm-up {options.warmup} s",
        flush=True,
    )


@events.test_start.add_listener
def _start(environment, **_kwargs):
    warmup = environment.parsed_options.warmup if environment.parsed_options else 0

    def reset():
        gevent.sleep(warmup)
        environment.runner.stats.reset_all()
        Shared.idle.clear()
        print(f"warm-up over: statistics reset at {datetime.datetime.now():%H:%M:%S}", flush=True)

    if warmup and environment.runner is not None:
        gevent.spawn(reset)


@events.quitting.add_listener
def _quitting(environment, **_kwargs):
    print(
        f"pools left: {sum(len(q) for q in Shared.to_dispatch.values()):,} to dispatch, "
        f"{len(Shared.to_complete):,} to complete; skipped for an empty pool: {dict(Shared.idle)}",
        flush=True,
    )


def think(user) -> float:
    lo, hi = Shared.think
    return Shared.rng.uniform(lo, hi) if hi else 0.0


class ApiUser(FastHttpUser):
    abstract = True
    wait_time = think
    # gunicorn's sync workers close the connection after each response.
    concurrency = 1

    def call(self, method: str, path: str, token: str, name: str, body=None, headers=None):
        headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        if body is None:
            return self.client.request(
                method, path, name=name, headers=headers, catch_response=True
            )
        return self.client.request(
            method, path, name=name, headers=headers, json=body, catch_response=True
        )

    @staticmethod
    def check(response, expected: int = 200) -> bool:
        with response:
            if response.status_code != expected:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return False
            response.success()
            return True


class Resident(ApiUser):
    weight = 12

    def on_start(self):
        self.last = None  # (token, key, body) of the previous submit

    @task
    def submit(self):
        rng = Shared.rng
        if self.last is not None and rng.random() < REPLAY_SHARE:
            token, key, body = self.last
            response = self.call(
                "POST",
                f"{API}/work-orders",
                token,
                "submit (replay)",
                body,
                {"Idempotency-Key": key},
            )
            with response:
                replayed = (response.headers.get("Idempotent-Replayed") or "").lower() == "true"
                if response.status_code != 201 or not replayed:
                    response.failure(f"HTTP {response.status_code}, replayed header {replayed}")
                else:
                    response.success()
            return
        resident = rng.choice(Shared.info["residents"])
        body = {
            "category_id": rng.choice(Shared.info["submit_category_ids"]),
            "house_id": resident["house_id"],
            "description": rng.choice(DESCRIPTIONS),
            "channel": "api",
            "preferred_time": "工作日晚上",
        }
        key = str(uuid.uuid4())
        response = self.call(
            "POST",
            f"{API}/work-orders",
            resident["token"],
            "submit",
            body,
            {"Idempotency-Key": key},
        )
        if self.check(response, 201):
            self.last = (resident["token"], key, body)


class Dispatcher(ApiUser):
    weight = 20

    def on_start(self):
        communities = Shared.info["communities"]
        self.c = Shared.dispatcher_seq % len(communities)
        Shared.dispatcher_seq += 1
        self.community = communities[self.c]

    @task(40)
    def list_page(self):
        rng = Shared.rng
        names = list(LIST_VARIANTS)
        name = rng.choices(names, [LIST_VARIANTS[n][0] for n in names])[0]
        query = LIST_VARIANTS[name][1]
        if query == "date_from":
            query = f"date_from={datetime.date.today() - datetime.timedelta(days=7)}"
        path = f"{API}/work-orders" + (f"?{query}" if query else "")
        self.check(self.call("GET", path, self.community["dispatcher"]["token"], "list"))

    @task(15)
    def dispatch(self):
        queue = Shared.to_dispatch.get(self.c)
        if not queue:
            Shared.idle["dispatch"] += 1
            return self.list_page()
        order_id, complaint = queue.popleft()
        desk = self.community["supervisor" if complaint else "dispatcher"]
        t = Shared.rng.randrange(len(self.community["technicians"]))
        response = self.call(
            "POST",
            f"{API}/work-orders/{order_id}/dispatch",
            desk["token"],
            "dispatch",
            {"assignee_id": self.community["technicians"][t]["staff_id"], "note": "请尽快处理"},
        )
        if self.check(response):
            Shared.to_complete.append((order_id, self.c, t))


class Technician(ApiUser):
    weight = 16

    def on_start(self):
        self.order = None  # (order id, community index, technician index)
        self.step = 0

    @task
    def next_step(self):
        if self.order is None:
            if not Shared.to_complete:
                Shared.idle["take"] += 1
                gevent.sleep(0.2)  # nothing dispatched yet: wait, do not spin
                return
            self.order, self.step = Shared.to_complete.popleft(), 0
        order_id, c, t = self.order
        token = Shared.info["communities"][c]["technicians"][t]["token"]
        step, body = STEPS[self.step]
        response = self.call("POST", f"{API}/work-orders/{order_id}/{step}", token, step, body)
        self.step += 1
        if not self.check(response) or self.step == len(STEPS):
            self.order = None


class Manager(ApiUser):
    weight = 2

    def wait_time(self):
        lo, hi = Shared.manager_think
        return Shared.rng.uniform(lo, hi)

    @task
    def dashboard(self):
        path = f"{API}/quality/dashboard"
        if Shared.rng.random() < 0.5:
            community = Shared.rng.choice(Shared.info["communities"])
            path += f"?community={community['id']}"
        self.check(self.call("GET", path, Shared.info["manager"]["token"], "dashboard"))
