"""The work queue at ten million orders: list pages, search, timeline, Excel export.

Run against a database made by ``wuye gen-data`` (``--database``, default
``wuye_gen_10m``). Starts ``wuye serve`` on it (or uses ``--url``) and, with one
keep-alive client and sequential requests, times for a company-wide admin and for a
community dispatcher:

- the work-order list's first page and a deep page (the cursor the API hands out
  after the visible order nearest below the 10th percentile of ids, i.e. 90 % of the
  way back), plus the 待派单 filter (``status=accepted``);
- text search (``q=``) for a common and a rare word of the generated descriptions;
- one order's detail and its timeline (``/events``), for random visible orders.

Then, in this process, the service-record Excel export (``wuye.workorders.exports``) of
10,000, 50,000 and 100,000 orders: seconds, rows/s and the peak Python memory
(tracemalloc), which must not grow with the rows (the export streams a chunked query
into openpyxl's write-only mode). Prints p50/p95/p99 per case, the deep/first ratio and
the export table; exit status 1 when a list or detail p95 misses 50 ms or the export's
peak memory grows more than 2× from 10k to 100k rows.

    uv run python bench/workorders_scale.py                      # 200 requests per case
    uv run python bench/workorders_scale.py --database wuye_gen_medium --requests 100
"""

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from house_list import Client, measure, percentiles, setup_django, start_server

OUT_DIR = Path(__file__).resolve().parent / "out"
API = "/api/v1/work-orders"
TARGET_P95_MS = 50.0
EXPORT_SIZES = (10_000, 50_000, 100_000)


def actors() -> dict:
    """A company-wide admin and the dispatcher of the company's busiest community."""
    from django.db.models import Count

    from wuye.staff.models import StaffMember
    from wuye.workorders.models import WorkOrder

    busiest = (
        WorkOrder.objects.values("community_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("community_id", flat=True)[:1]
        .get()
    )
    admin = StaffMember.objects.filter(roles__code="company_admin", is_active=True).first()
    # A dispatcher where there is one (wuye gen-data), else the project manager.
    community_staff = StaffMember.objects.filter(communities=busiest, is_active=True)
    dispatcher = (
        community_staff.filter(roles__code="dispatcher").first()
        or community_staff.filter(roles__code="project_manager").first()
    )
    if not admin or not dispatcher:
        sys.exit("no company admin or dispatcher found: run `wuye gen-data` first")
    return {"admin": admin.user, "dispatcher": dispatcher.user}


def token_for(user) -> str:
    from wuye.accounts.actor import Actor
    from wuye.accounts.services import create_api_token

    _token, secret = create_api_token(actor=Actor(user), name="bench workorders_scale")
    return secret


def deep_cursor(client: Client, user) -> tuple[str, int]:
    """The API's own ``next`` cursor from a page 90 % of the way back through the ids."""
    from wuye.accounts.actor import Actor
    from wuye.core.apitools import IdCursorPagination
    from wuye.workorders.models import WorkOrder

    visible = WorkOrder.objects.visible_to(Actor(user))
    low, high = visible.order_by("id").values_list("id", flat=True).first(), visible.latest("id").id
    target = low + (high - low) // 10
    order = visible.filter(id__lte=target).order_by("-id").first()
    jump = IdCursorPagination.Cursor(p=str(order.id)).encode_as_param()
    _elapsed, body = client.get({"cursor": jump}, path=API)
    assert body["results"][0]["id"] == order.id, "the constructed cursor landed elsewhere"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["next"]).query)
    return query["cursor"][0], order.id


def search_words() -> tuple[str, str]:
    """The most and the least frequent first word of a sample of descriptions."""
    from collections import Counter

    from wuye.workorders.models import WorkOrder

    sample = WorkOrder.objects.order_by("-id").values_list("description", flat=True)[:20_000]
    words = Counter(text[:2] for text in sample if len(text) >= 2)
    if not words:
        sys.exit("the orders have no descriptions to search")
    ranked = words.most_common()
    return ranked[0][0], ranked[-1][0]


def random_visible_ids(user, count: int, rng: random.Random) -> list[int]:
    from wuye.accounts.actor import Actor
    from wuye.workorders.models import WorkOrder

    visible = WorkOrder.objects.visible_to(Actor(user))
    high = visible.latest("id").id
    ids = []
    while len(ids) < count:
        probe = rng.randint(1, high)
        found = visible.filter(id__lte=probe).order_by("-id").values_list("id", flat=True)[:1]
        ids.extend(found)
    return ids


def time_ids(client: Client, ids: list[int], suffix: str) -> dict:
    samples = []
    for pk in ids:
        elapsed, _body = client.get(path=f"{API}/{pk}{suffix}")
        samples.append(elapsed)
    return percentiles(samples)


def export_run(user, rows: int) -> dict:
    from wuye.accounts.actor import Actor
    from wuye.workorders import exports, selectors

    actor = Actor(user)
    newest = selectors.orders().visible_to(actor).order_by("-id")
    cutoff = newest.values_list("id", flat=True)[rows - 1 : rows].get()
    orders = selectors.orders().visible_to(actor).filter(id__gte=cutoff)
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        started = time.perf_counter()
        exports.export_orders(actor=actor, orders=orders, out=out)
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = out.tell()
    return {
        "rows": rows,
        "s": seconds,
        "rows/s": rows / seconds,
        "peak MiB": peak / 2**20,
        "MB": size / 1e6,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="wuye_gen_10m")
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--bind", default="127.0.0.1:8131")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args(argv)

    database_url = f"{args.server}/{args.database}"
    setup_django(database_url)
    from wuye.workorders.models import WorkOrder

    print(f"database {args.database}: {WorkOrder.objects.count():,} work orders", flush=True)
    people = actors()
    tokens = {name: token_for(user) for name, user in people.items()}
    common, rare = search_words()
    rng = random.Random(args.seed)

    OUT_DIR.mkdir(exist_ok=True)
    server = None
    url = args.url
    if not url:
        server = start_server(args.bind, database_url, args.workers, OUT_DIR / "scale.log")
        url = f"http://{args.bind}"
    ok = True
    try:
        print(f"\n{'actor':<11}{'case':<28}{'n':>5}{'p50':>9}{'p95':>9}{'p99':>9}  ms")
        for name, user in people.items():
            client = Client(url, tokens[name])
            cursor, after = deep_cursor(client, user)
            cases = {
                "list: first page": {},
                "list: deep page (90 %)": {"cursor": cursor},
                "list: 待派单 (accepted)": {"status": "accepted"},
                f"search: common ({common})": {"q": common},
                f"search: rare ({rare})": {"q": rare},
            }
            figures = {}
            for case, query in cases.items():
                stats, body = measure(client, query, args.requests, args.warmup, API)
                if case.startswith("list: deep"):
                    assert body["results"][0]["id"] < after, "deep cursor did not move"
                figures[case] = stats
                print_row(name, case, stats)
                ok &= case.startswith("search") or stats["p95"] < TARGET_P95_MS
            ids = random_visible_ids(user, args.requests, rng)
            for case, suffix in (("detail", ""), ("timeline (/events)", "/events")):
                stats = time_ids(client, ids, suffix)
                print_row(name, case, stats)
                ok &= stats["p95"] < TARGET_P95_MS
            ratio = figures["list: deep page (90 %)"]["p95"] / figures["list: first page"]["p95"]
            print(f"{name}: deep/first p95 ratio {ratio:.2f}")
    finally:
        if server:
            server.terminate()
            server.wait(15)

    if not args.no_export:
        print(f"\n{'export rows':>12}{'s':>8}{'rows/s':>9}{'peak MiB':>10}{'MB':>7}")
        runs = [export_run(people["admin"], rows) for rows in EXPORT_SIZES]
        for run in runs:
            print(
                f"{run['rows']:>12,}{run['s']:>8.1f}{run['rows/s']:>9,.0f}"
                f"{run['peak MiB']:>10.1f}{run['MB']:>7.1f}"
            )
        growth = runs[-1]["peak MiB"] / runs[0]["peak MiB"]
        print(f"peak memory 100k / 10k rows: {growth:.2f}")
        ok &= growth < 2
    print("\ntargets met" if ok else "\nTARGET MISSED")
    return 0 if ok else 1


def print_row(actor: str, case: str, stats: dict) -> None:
    print(
        f"{actor:<11}{case:<28}{stats['n']:>5}{stats['p50']:>9.1f}{stats['p95']:>9.1f}"
        f"{stats['p99']:>9.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
