"""The estate registry: companies (through ``create_company``, so each has its default
roles, trades, shifts, calendars, SLA policies, categories and quality defaults),
communities of different sizes and heights, buildings, units and houses.

Houses are written by PostgreSQL (``INSERT … SELECT`` over ``generate_series``) in a
shuffled building order, so a community's house ids are spread over the whole id range
as they are after years of imports, not packed in one block (the house-list benchmark
relies on it). Each community has one height (6, 11, 18, 26 or 33 floors), two units per
building and two flats per floor; built-up areas 55–155 m² (most near 105), indoor
area 76–84 % of it; 70 % owner-occupied, 15 % rented, 12 % vacant, 3 % renovating.
"""

import datetime
import io
import random

from django.db import connection

from wuye.estates.models import Building, Community, Company, House, Unit
from wuye.gendata.sql import pick

UNITS_PER_BUILDING = 2
FLATS_PER_FLOOR = 2
HEIGHTS = ((6, 15), (11, 20), (18, 30), (26, 20), (33, 15))  # floors, weight
OCCUPANCY = (("owner_occupied", 70), ("rented", 15), ("vacant", 12), ("renovating", 3))
BRANDS = ("华景", "锦程", "悦府", "中庭", "嘉禾", "明德", "润泽", "安平", "鼎盛", "和煦")
CITIES = (
    ("浙江省", "杭州市", ("西湖区", "拱墅区", "滨江区", "余杭区", "萧山区")),
    ("江苏省", "南京市", ("鼓楼区", "建邺区", "江宁区", "栖霞区")),
    ("上海市", "上海市", ("浦东新区", "闵行区", "徐汇区", "宝山区")),
    ("广东省", "深圳市", ("南山区", "福田区", "龙岗区", "宝安区")),
    ("四川省", "成都市", ("武侯区", "锦江区", "高新区", "成华区")),
)
PREFIXES = (
    "翠湖", "锦绣", "金桂", "御景", "华府", "碧水", "枫林", "云栖", "滨江", "紫荆",
    "香樟", "天悦", "星河", "阳光", "绿洲", "春晓", "万象", "东方", "凤凰", "桃源",
    "明月", "银杏", "梧桐", "海棠", "玉兰", "松涛", "青山", "晴川", "长乐", "景泰",
)  # fmt: skip
SUFFIXES = ("花园", "苑", "府", "家园", "名邸", "新城", "雅苑", "公馆", "华庭", "小区")


def company_code(seed: int, index: int) -> str:
    """Generated companies are recognised by this code (``gen<seed>-<n>``)."""
    return f"gen{seed}-{index}"


GENERATED_CODE = r"^gen[0-9]+-[0-9]+$"  # the same, for SQL ``~``


def company_name(index: int) -> str:
    brand = BRANDS[(index - 1) % len(BRANDS)]
    round_ = (index - 1) // len(BRANDS)
    return f"{brand}物业服务有限公司" + (f"（第{round_ + 1}分公司）" if round_ else "")


def create_companies(run) -> list[Company]:
    from wuye.billing.services import policy_for
    from wuye.estates.services import create_company

    companies = []
    for index in range(1, run.options.companies + 1):
        province, city, _districts = CITIES[(index - 1) % len(CITIES)]
        company = create_company(
            name=company_name(index),
            code=company_code(run.seed, index),
            contact_phone=f"400-8{index:02d}-{run.seed % 10000:04d}",
            address=f"{province}{city}",
        )
        policy_for(company)  # the documented billing defaults, as the console would
        companies.append(company)
    run.rows["estates_company"] = len(companies)
    return companies


def _shares(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder, ties to the first)."""
    exact = [total * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def plan_communities(run, companies) -> list[dict]:
    """Per community: company, name, code, place, height, houses, delivery date."""
    rng = random.Random(f"communities-{run.seed}")
    per_company = _shares(run.options.communities, [1.0] * len(companies))
    weights = [0.5 + rng.random() for _ in range(run.options.communities)]
    houses = _shares(run.options.houses, weights)
    if min(houses) < 4:
        raise ValueError("too few houses for this many communities")
    plans, n = [], 0
    for ci, (company, count) in enumerate(zip(companies, per_company, strict=True)):
        province, city, districts = CITIES[ci % len(CITIES)]
        names = [p + s for s in SUFFIXES for p in PREFIXES]
        rng.shuffle(names)
        for k in range(count):
            name = names[k % len(names)] + ("" if k < len(names) else f"{k // len(names) + 1}期")
            floors = rng.choices([h for h, _w in HEIGHTS], [w for _h, w in HEIGHTS])[0]
            age_days = rng.randint(400, 6000)
            plans.append(
                {
                    "company": company,
                    "name": name,
                    "code": f"c{k + 1:03d}",
                    "province": province,
                    "city": city,
                    "district": districts[k % len(districts)],
                    "floors": floors,
                    "houses": houses[n],
                    "delivered": run.start - datetime.timedelta(days=age_days),
                }
            )
            n += 1
    return plans


def create_communities(run, plans) -> list[Community]:
    communities = Community.objects.bulk_create(
        Community(
            company=p["company"],
            name=p["name"],
            code=p["code"],
            province=p["province"],
            city=p["city"],
            district=p["district"],
            address=f"{p['district']}{p['name'][:2]}路{len(p['name']) * 17 % 300 + 1}号",
            service_phone=f"0571-8{(i * 7919) % 10_000_000:07d}",
        )
        for i, p in enumerate(plans)
    )
    run.rows["estates_community"] = len(communities)
    return communities


def create_buildings(run, plans, communities) -> list[tuple]:
    """Buildings and units; returns (building, unit ids, flats, community plan) rows."""
    per_floor = UNITS_PER_BUILDING * FLATS_PER_FLOOR
    rows = []
    for plan, community in zip(plans, communities, strict=True):
        per_building = per_floor * plan["floors"]
        left, number = plan["houses"], 0
        while left > 0:
            number += 1
            flats = min(left, per_building)
            rows.append((community, number, -(-flats // per_floor), flats, plan))
            left -= flats
    buildings = Building.objects.bulk_create(
        (
            Building(community=c, name=f"{n}栋", floors_above=floors, sort_order=n)
            for c, n, floors, _flats, _plan in rows
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
    run.rows["estates_building"] = len(buildings)
    run.rows["estates_unit"] = len(units)
    return [
        (
            b,
            [units[i * UNITS_PER_BUILDING + u].pk for u in range(UNITS_PER_BUILDING)],
            row[3],
            row[4],
        )
        for i, (b, row) in enumerate(zip(buildings, rows, strict=True))
    ]


def create_houses(run, buildings) -> int:
    """COPY the building plan into a temporary table, then one INSERT … SELECT."""
    rng = random.Random(f"buildings-{run.seed}")
    order = list(range(len(buildings)))
    rng.shuffle(order)
    position = {index: rank for rank, index in enumerate(order)}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE gen_bplan (idx int, shuffle int, building_id bigint, "
            "unit1 bigint, unit2 bigint, community_id bigint, company_id bigint, flats int, "
            "delivered timestamptz)"
        )
        buf = io.StringIO()
        for idx, (building, unit_ids, flats, plan) in enumerate(buildings):
            buf.write(
                f"{idx}\t{position[idx]}\t{building.pk}\t{unit_ids[0]}\t{unit_ids[1]}\t"
                f"{building.community_id}\t{plan['company'].pk}\t{flats}\t"
                f"{plan['delivered'].isoformat()}\n"
            )
        with cursor.connection.cursor() as raw, raw.copy("COPY gen_bplan FROM STDIN") as copy:
            copy.write(buf.getvalue())
    total = sum(flats for _b, _u, flats, _p in buildings)
    first = run.reserve_ids(House._meta.db_table, total)
    key = "b.idx * 256 + n"
    built = f"round((55 + 50 * ({run.r(key, 1)} + {run.r(key, 2)}))::numeric, 2)"
    occupancy = pick([(f"'{o}'", w) for o, w in OCCUPANCY], run.r(key, 4))
    per_floor = UNITS_PER_BUILDING * FLATS_PER_FLOOR
    run.execute(
        f"""
        INSERT INTO {House._meta.db_table} (id, company_id, community_id, building_id, unit_id,
            number, floor, built_area, indoor_area, kind, occupancy, created_at, updated_at)
        SELECT {first - 1} + row_number() OVER (ORDER BY x.shuffle, x.n),
               x.company_id, x.community_id, x.building_id, x.unit_id,
               lpad(x.floor::text, 2, '0') || lpad(x.position::text, 2, '0'), x.floor,
               x.built, trunc(x.built * (0.76 + 0.08 * x.r_indoor)::numeric, 2),
               'residence', x.occupancy, x.delivered, x.delivered
        FROM (
            SELECT b.shuffle, n, b.company_id, b.community_id, b.building_id, b.delivered,
                   CASE WHEN mod(n, {per_floor}) < {FLATS_PER_FLOOR} THEN b.unit1
                        ELSE b.unit2 END AS unit_id,
                   n / {per_floor} + 1 AS floor, mod(n, {FLATS_PER_FLOOR}) + 1 AS position,
                   {built} AS built, {run.r(key, 3)} AS r_indoor, {occupancy} AS occupancy
            FROM gen_bplan b CROSS JOIN LATERAL generate_series(0, b.flats - 1) AS n
        ) AS x
        """,
        table=House._meta.db_table,
    )
    return total


def generate(run) -> None:
    companies = create_companies(run)
    plans = plan_communities(run, companies)
    communities = create_communities(run, plans)
    buildings = create_buildings(run, plans, communities)
    run.progress(
        f"{len(companies)} companies, {len(communities)} communities, {len(buildings)} buildings"
    )
    create_houses(run, buildings)
