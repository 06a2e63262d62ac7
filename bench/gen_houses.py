"""Generate a large estate registry on PostgreSQL for the house-list benchmark.

One company with ``--communities`` communities (default 300), their buildings and
units, and ``--houses`` houses (default 1,000,000) written with COPY. Buildings are
written in a shuffled order, so each community's house ids are spread over the whole
id range, as they are after years of imports, not packed in one block. Also creates a
company-wide admin and a dispatcher scoped to one community, each with an API token,
and writes the tokens to ``bench/out/tokens.json`` (git-ignored).

    uv run python bench/gen_houses.py --recreate            # 1,000,000 houses
    uv run python bench/gen_houses.py --houses 20000 --recreate --database wuye_bench_small

Deterministic for a given ``--seed`` (the house rows, not the token secrets).
"""

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

import psycopg

OUT_DIR = Path(__file__).resolve().parent / "out"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
UNITS_PER_BUILDING = 2
FLATS_PER_FLOOR = 2
MAX_FLOORS = 33
OCCUPANCY = (("owner_occupied", 70), ("rented", 15), ("vacant", 12), ("renovating", 3))


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


def plan_buildings(houses: int, communities: int) -> list[tuple[int, int, int, int]]:
    """(community index, building number, floors, flats): flats add up to ``houses``."""
    per_floor = UNITS_PER_BUILDING * FLATS_PER_FLOOR
    per_building = per_floor * MAX_FLOORS
    plan = []
    for c in range(communities):
        share = houses // communities + (1 if c < houses % communities else 0)
        number = 0
        while share > 0:
            number += 1
            flats = min(share, per_building)
            floors = -(-flats // per_floor)
            plan.append((c, number, floors, flats))
            share -= flats
    return plan


def generate(args) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction

    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.accounts.services import create_api_token
    from wuye.estates.models import Building, Community, Unit
    from wuye.estates.services import create_company
    from wuye.staff.models import Role, StaffMember

    rng = random.Random(args.seed)
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrated in {time.monotonic() - started:.1f}s", flush=True)

    with transaction.atomic():
        company = create_company(name="基准物业", code="bench")
        communities = Community.objects.bulk_create(
            Community(
                company=company,
                name=f"基准小区{i + 1:03d}",
                code=f"c{i + 1:03d}",
                province="浙江省",
                city="杭州市",
                district="西湖区",
            )
            for i in range(args.communities)
        )
        plan = plan_buildings(args.houses, args.communities)
        buildings = Building.objects.bulk_create(
            (
                Building(
                    community=communities[c],
                    name=f"{number}栋",
                    floors_above=floors,
                    sort_order=number,
                )
                for c, number, floors, _flats in plan
            ),
            batch_size=5000,
        )
        units = Unit.objects.bulk_create(
            (
                Unit(building=b, name=f"{u}单元", sort_order=u)
                for b in buildings
                for u in range(1, UNITS_PER_BUILDING + 1)
            ),
            batch_size=5000,
        )
    print(
        f"{len(communities)} communities, {len(buildings)} buildings, {len(units)} units "
        f"at {time.monotonic() - started:.1f}s",
        flush=True,
    )

    order = list(range(len(plan)))
    rng.shuffle(order)
    occupancies = [o for o, _w in OCCUPANCY]
    weights = [w for _o, w in OCCUPANCY]
    columns = (
        "company_id, community_id, building_id, unit_id, number, floor, built_area, "
        "indoor_area, kind, occupancy, created_at, updated_at"
    )
    written = 0
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection under Django's wrapper
    with raw.cursor() as cur:
        with cur.copy(f"COPY estates_house ({columns}) FROM STDIN") as copy:
            buf = io.StringIO()
            for i in order:
                c, _number, _floors, flats = plan[i]
                building = buildings[i]
                unit_ids = [units[i * UNITS_PER_BUILDING + u].pk for u in range(2)]
                for n in range(flats):
                    floor, rest = divmod(n, UNITS_PER_BUILDING * FLATS_PER_FLOOR)
                    unit_index, position = divmod(rest, FLATS_PER_FLOOR)
                    built = rng.randint(6000, 16000)
                    indoor = built * rng.randint(76, 84) // 100
                    buf.write(
                        f"{company.pk}\t{communities[c].pk}\t{building.pk}\t"
                        f"{unit_ids[unit_index]}\t{floor + 1:02d}{position + 1:02d}\t{floor + 1}\t"
                        f"{built // 100}.{built % 100:02d}\t{indoor // 100}.{indoor % 100:02d}\t"
                        f"residence\t{rng.choices(occupancies, weights)[0]}\tnow\tnow\n"
                    )
                written += flats
                if buf.tell() > 8_000_000:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        print(f"copied {written} houses at {time.monotonic() - started:.1f}s", flush=True)
        cur.execute("VACUUM ANALYZE estates_house")
    print(f"analyzed at {time.monotonic() - started:.1f}s", flush=True)

    # The two benchmark actors, created like the console would.
    tokens = {}
    target = communities[len(communities) // 2]
    for username, role, scope in (
        ("bench_admin", "company_admin", communities),
        ("bench_dispatcher", "dispatcher", [target]),
    ):
        user = User.objects.create(username=username, first_name=username)
        member = StaffMember.objects.create(
            company=company, user=user, employee_no=username, name=username
        )
        member.roles.set(Role.objects.filter(company=company, code=role))
        member.communities.set(scope)
        _token, secret = create_api_token(actor=Actor(user), name="house-list benchmark")
        tokens[username] = secret
    print(f"done in {time.monotonic() - started:.1f}s", flush=True)
    return {
        "database_url": database_url(args),
        "houses": written,
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
    if args.houses < args.communities:
        parser.error("--houses must be at least --communities")

    create_database(args)
    setup_django(database_url(args))
    info = generate(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(info, indent=2) + "\n")
    print(f"tokens and settings written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
