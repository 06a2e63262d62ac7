"""A community dispatcher's work-order list page, in-process on PostgreSQL: the page as
``selectors.orders()`` builds it against the ten-table join it replaced (the baseline,
measured in the same run).

    uv run python bench/gen_workorders.py --recreate   # once: scratch database wuye_bench_http
    uv run python bench/workorder_list_query.py

Prints p50/p95 over 50 timed runs (after 10 warm-up runs) of fetching the first page
(51 rows, as the API's cursor pagination asks) and reading each row's place, for three
filters, and the ratio current / baseline.
"""

import argparse
import os
import statistics
import time

PAGE = 51
FILTERS = {
    "none": {},
    "status=accepted": {"status__in": ["accepted"]},
    "complaints": {"request_type": "complaint"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="wuye_bench_http")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()
    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.workorders import selectors
    from wuye.workorders.models import WorkOrder

    user = User.objects.filter(username__startswith="bench_dispatcher").order_by("id").first()
    who = Actor(user)

    def baseline():
        return WorkOrder.objects.select_related(
            "community",
            "category__parent",
            "house__community",
            "house__building",
            "house__unit",
            "common_area",
            "assignee",
        )

    def timed(make, filters) -> list[float]:
        times = []
        for _ in range(10 + args.runs):
            started = time.perf_counter()
            rows = list(make().visible_to(who).filter(**filters).order_by("-id")[:PAGE])
            for row in rows:
                row.place  # noqa: B018 - reads the house or common area
            times.append((time.perf_counter() - started) * 1000)
        return sorted(times[10:])

    print(f"actor {user.username}, {len(who.community_ids)} community, page of {PAGE}")
    for name, filters in FILTERS.items():
        base, current = timed(baseline, filters), timed(selectors.orders, filters)
        p95 = int(len(base) * 0.95) - 1
        print(
            f"{name:16s} baseline p50 {statistics.median(base):6.2f} p95 {base[p95]:6.2f} ms"
            f"   current p50 {statistics.median(current):6.2f} p95 {current[p95]:6.2f} ms"
            f"   p95 ratio {current[p95] / base[p95]:.2f}"
        )


if __name__ == "__main__":
    main()
