"""Generate ten million work orders on PostgreSQL for the quality benchmarks.

A thin wrapper over ``wuye gen-data`` (``wuye.gendata``, whose ``orders`` module
docstring has the mix of types, channels, durations, ratings and complaints): one
company with ``--communities`` communities (default 300), ``--houses`` houses (default
1,000,000), their residents and staff, and ``--orders`` work orders (default 10,000,000)
over the past year with their ratings, complaint rows and timelines — no bills or
rounds, and no rollups (``quality_dashboard.py`` rebuilds them and times it). Then the
benchmark's actors: ``bench_admin`` (company-wide) and ``bench_dispatcher`` (from
``gen_houses.py``) and ``bench_manager``, the project manager of the middle community.

Writes ``bench/out/quality.json`` (git-ignored) with the ids the benchmark uses.

    uv run python bench/gen_quality.py --recreate                  # 10M orders
    uv run python bench/gen_quality.py --recreate --orders 200000 --houses 20000 \\
        --communities 20 --database wuye_bench_quality_small
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_houses

OUT_DIR = Path(__file__).resolve().parent / "out"


def generate(args) -> dict:
    from wuye.estates.models import Community
    from wuye.staff.models import StaffMember

    started = time.monotonic()
    info = gen_houses.generate(args, orders=args.orders, skip=("bills", "inspections", "rollups"))
    company = gen_houses.generated_company(args.seed)
    middle = Community.objects.get(pk=info["dispatcher_community_id"])
    gen_houses.create_actor(company, "bench_manager", "project_manager", [middle])
    technician = (
        StaffMember.objects.filter(communities=middle, roles__code="technician")
        .order_by("id")
        .first()
    )
    return {
        **info,
        "orders": args.orders,
        "company_id": company.pk,
        "manager_community_id": middle.pk,
        "person_id": technician.pk,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--houses", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", default=gen_houses.SERVER_URL)
    parser.add_argument("--database", default="wuye_bench_quality")
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "quality.json")
    args = parser.parse_args(argv)
    gen_houses.create_database(args)
    gen_houses.setup_django(gen_houses.database_url(args))
    result = generate(args)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "tokens"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
