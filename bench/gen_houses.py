"""Generate a large estate registry on PostgreSQL for the house-list benchmark.

A thin wrapper over ``wuye gen-data`` (``wuye.gendata``): one company with
``--communities`` communities (default 300), their buildings and units, and ``--houses``
houses (default 1,000,000), written by PostgreSQL in a shuffled building order so each
community's house ids are spread over the whole id range. Then a company-wide admin
(``bench_admin``) and a dispatcher scoped to one community (``bench_dispatcher``), each
with an API token; the tokens go to ``bench/out/tokens.json`` (git-ignored).

    uv run python bench/gen_houses.py --recreate            # 1,000,000 houses
    uv run python bench/gen_houses.py --houses 20000 --recreate --database wuye_bench_small

Deterministic for a given ``--seed`` (the house rows, not the token secrets).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psycopg

OUT_DIR = Path(__file__).resolve().parent / "out"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
REGISTRY_ONLY = ("residents", "staff", "orders", "bills", "inspections", "rollups")


def database_url(args) -> str:
    return f"{args.server}/{args.database}"


def create_database(args) -> None:
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (args.database,)
        ).fetchone()
        if exists and not args.recreate:
            sys.exit(f"database {args.database} exists; pass --recreate to rebuild it")
        if exists:
            conn.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()


def run_gendata(args, *, orders: int = 0, skip=REGISTRY_ONLY) -> None:
    """``wuye gen-data`` with one company and the benchmark's sizes."""
    from wuye.gendata import runner
    from wuye.gendata.options import Options

    options = Options(
        companies=1,
        communities=args.communities,
        houses=args.houses,
        orders=orders,
        seed=args.seed,
        skip=skip,
    )
    results = runner.generate(options, log=lambda line: print(line, flush=True))
    print(runner.summary(results), flush=True)


def create_actor(company, username: str, role: str, communities) -> str:
    """A staff member with one role, its communities and an API token (the secret)."""
    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.accounts.services import create_api_token
    from wuye.staff.models import Role, StaffMember

    user = User.objects.create(username=username, first_name=username)
    member = StaffMember.objects.create(
        company=company, user=user, employee_no=username, name=username
    )
    member.roles.set(Role.objects.filter(company=company, code=role))
    member.communities.set(communities)
    _token, secret = create_api_token(actor=Actor(user), name="benchmark")
    return secret


def generated_company(seed: int):
    from wuye.estates.models import Company
    from wuye.gendata.registry import company_code

    return Company.objects.get(code=company_code(seed, 1))


def generate(args, *, orders: int = 0, skip=REGISTRY_ONLY) -> dict:
    from wuye.estates.models import Community, House

    started = time.monotonic()
    run_gendata(args, orders=orders, skip=skip)
    company = generated_company(args.seed)
    communities = list(Community.objects.filter(company=company).order_by("id"))
    target = communities[len(communities) // 2]
    tokens = {
        "bench_admin": create_actor(company, "bench_admin", "company_admin", communities),
        "bench_dispatcher": create_actor(company, "bench_dispatcher", "dispatcher", [target]),
    }
    print(f"done in {time.monotonic() - started:.1f}s", flush=True)
    return {
        "database_url": database_url(args),
        "houses": House.objects.filter(company=company).count(),
        "communities": len(communities),
        "dispatcher_community_id": target.pk,
        "tokens": tokens,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--houses", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", default=SERVER_URL, help="PostgreSQL URL without a database")
    parser.add_argument("--database", default="wuye_bench")
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "tokens.json")
    args = parser.parse_args(argv)
    if args.houses < 4 * args.communities:
        parser.error("--houses must be at least four per community")

    create_database(args)
    setup_django(database_url(args))
    info = generate(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(info, indent=2) + "\n")
    print(f"tokens and settings written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
