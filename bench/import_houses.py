"""Benchmark: import 10,000 houses with their residents from one Excel file.

Generates a deterministic workbook in the import format (``bench/out/``), then, for
SQLite (a temporary database file) and PostgreSQL (a scratch database created and
dropped here), times the same service functions the import task uses:

- validate: ``wuye.imports.workbook.check_file`` (read and check every row);
- write: ``wuye.imports.services.apply_rows`` (one transaction, bulk writes);
- re-import: check + write of the same file again (must create/update nothing).

    uv run python bench/import_houses.py                      # both databases
    uv run python bench/import_houses.py --only sqlite --houses 2000
    uv run python bench/import_houses.py --pg postgres://postgres@127.0.0.1:5432

Each database runs in a child process (Django settings are per process). Exit status
1 when a first import takes 10 s or more.
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = Path(__file__).resolve().parent / "out"
TARGET_SECONDS = 10.0
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "wuye_bench_import"


def words(text: str) -> list[str]:
    return text.split()


# Kept here (not imported from wuye.demo) so the generator needs no Django.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = words(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 旭 宁 龙 林 阳 "
    "建华 建国 志强 志明 海涛 晓东 文博 国庆 立新 永强 建军 振华 明辉 家豪 思远 博文 天宇 俊杰 "
    "芳 娜 敏 静 丽 艳 娟 霞 婷 雪 琳 晶 颖 倩 丹 萍 红 玲 慧 燕 佳 "
    "秀英 桂英 玉兰 晓梅 海燕 丽华 美玲 春梅 雅婷 欣怡 思琪 佳怡 静怡 婉清 雨萱"
)
CHILD_GIVEN = words("子轩 浩然 宇轩 梓涵 雨涵 诗涵 一诺 欣妍 沐辰 若汐 子墨 思彤 奕辰 语桐 皓轩")
MOBILE_PREFIXES = words("130 131 132 135 136 137 138 139 150 151 152 155 158 159 180 186 188 189")
ID_REGIONS = words("330106 330105 330102 330110 330108 330109 320506 320106 340104 360102")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


# --- the workbook ------------------------------------------------------------------
class People:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.mobiles: set[str] = set()

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def id_number(self) -> str:
        born = datetime.date(self.rng.randint(1955, 2000), 1, 1) + datetime.timedelta(
            days=self.rng.randrange(365)
        )
        body = f"{self.rng.choice(ID_REGIONS)}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
        return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]

    def day(self) -> datetime.date:
        return datetime.date(2008, 1, 1) + datetime.timedelta(days=self.rng.randrange(6200))


def generate(path: Path, *, houses: int, seed: int) -> tuple[int, int]:
    """Write the workbook; returns (houses, rows). High-rise flats with owners, family
    members and tenants, street shops and underground parking spaces."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    people = People(rng)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("房屋")
    sheet.append(
        ["楼栋", "单元", "房号", "楼层", "建筑面积", "套内面积", "房屋类型", "使用状态",
         "业主姓名", "业主手机", "身份证号", "关系", "入住日期"]
    )  # fmt: skip
    rows = made = 0
    shops = houses // 25
    spaces = houses // 8
    flats = houses - shops - spaces
    building = 0
    while made < flats:
        building += 1
        floors = rng.choice((11, 18, 26, 33))
        for unit in (1, 2):
            for floor in range(1, floors + 1):
                for flat in (1, 2):
                    if made == flats:
                        break
                    made += 1
                    built = round(rng.uniform(60, 160), 2)
                    indoor = round(built * rng.uniform(0.74, 0.82), 2)
                    house = [f"{building}栋", f"{unit}单元", f"{floor:02d}{flat:02d}", floor,
                             built, indoor, "住宅"]  # fmt: skip
                    rows += write_people(sheet, people, house)
    for number in range(1, shops + 1):
        house = ["商业街", None, f"S{number:03d}", 1, round(rng.uniform(30, 200), 2), None, "商铺"]
        rows += write_people(sheet, people, house)
    for number in range(1, spaces + 1):
        house = ["地下车库", None, f"B{number:04d}", -1, 12.5, None, "车位"]
        rows += write_people(sheet, people, house)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return houses, rows


def write_people(sheet, people: People, house: list) -> int:
    rng = people.rng
    roll = rng.random()
    if roll < 0.08:
        sheet.append([*house, "空置"])
        return 1
    occupancy = "装修" if roll < 0.11 else ("出租" if roll < 0.26 else "自住")
    owner_id = people.id_number() if rng.random() < 0.6 else None
    surname_owner = people.name()
    rows = [[surname_owner, people.mobile(), owner_id, "业主", people.day()]]
    if occupancy == "自住" and house[6] == "住宅" and rng.random() < 0.35:
        rows.append([people.name(), people.mobile(), None, "家庭成员", rows[0][4]])
        if rng.random() < 0.4:
            child = surname_owner[0] + rng.choice(CHILD_GIVEN)
            rows.append([child, None, None, "家庭成员", rows[0][4]])
    if occupancy == "出租":
        rows.append([people.name(), people.mobile(), None, "租户", people.day()])
    for person in rows:
        sheet.append([*house, occupancy, *person])
    return len(rows)


# --- one database (child process) ----------------------------------------------------
def child(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.estates.models import Community
    from wuye.estates.services import create_company
    from wuye.imports import services, workbook
    from wuye.staff.models import Role, StaffMember

    call_command("migrate", verbosity=0)
    company = create_company(name="基准物业", code="bench")
    community = Community.objects.create(company=company, name="基准花园", code="bench")
    user = User.objects.create(username="bench_admin")
    member = StaffMember.objects.create(
        company=company, user=user, employee_no="B001", name="基准管理员"
    )
    member.roles.set(Role.objects.filter(company=company, code="company_admin"))
    actor = Actor(user)

    def once() -> dict:
        started = time.perf_counter()
        with open(args.file, "rb") as handle:
            checked = workbook.check_file(handle)
        validated = time.perf_counter()
        assert checked.ok, checked.errors[:5]
        counts = services.apply_rows(actor=actor, community=community, rows=checked.rows)
        written = time.perf_counter()
        return {
            "rows": checked.total_rows,
            "validate_s": validated - started,
            "write_s": written - validated,
            "total_s": written - started,
            "counts": counts,
        }

    first = once()
    again = once()
    assert set(again["counts"].values()) == {0}, again["counts"]
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "server": connection.cursor().connection.info.server_version
                if connection.vendor == "postgresql"
                else __import__("sqlite3").sqlite_version,
                "first": first,
                "again": again,
            }
        )
    )


def run_child(file: Path, database_url: str, var_dir: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WUYE_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--file", str(file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sqlite(file: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="wuye-bench-import-") as tmp:
        return run_child(file, f"sqlite:///{tmp}/bench.sqlite3", tmp)


def postgres(file: Path, server: str, database: str) -> dict:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="wuye-bench-import-") as tmp:
            return run_child(file, f"{server}/{database}", tmp)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def report(name: str, result: dict) -> bool:
    first, again = result["first"], result["again"]
    rows = first["rows"]
    counts = first["counts"]
    print(f"\n{name} ({result['vendor']} {result['server']})")
    print(
        f"  first import : {first['total_s']:6.2f} s  = validate {first['validate_s']:.2f} s"
        f" + write {first['write_s']:.2f} s   {rows / first['total_s']:,.0f} rows/s"
    )
    print(
        f"  re-import    : {again['total_s']:6.2f} s  = validate {again['validate_s']:.2f} s"
        f" + write {again['write_s']:.2f} s   (nothing created or updated)"
    )
    print(
        "  created      : "
        + ", ".join(f"{k.removesuffix('_created')} {v:,}" for k, v in counts.items() if v)
    )
    return first["total_s"] < TARGET_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--houses", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--pg", default=PG_SERVER, help="PostgreSQL server URL (no database)")
    parser.add_argument("--database", default=PG_DATABASE, help="scratch database, dropped after")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    file = OUT_DIR / f"import_houses_{args.houses}_{args.seed}.xlsx"
    started = time.perf_counter()
    houses, rows = generate(file, houses=args.houses, seed=args.seed)
    print(
        f"workbook: {file.relative_to(ROOT)} — {houses:,} houses, {rows:,} rows, "
        f"{file.stat().st_size / 1024 / 1024:.1f} MB, generated in "
        f"{time.perf_counter() - started:.1f} s"
    )
    ok = True
    if args.only in (None, "sqlite"):
        ok &= report("SQLite (temporary file, WAL)", sqlite(file))
    if args.only in (None, "postgres"):
        ok &= report(f"PostgreSQL ({args.database})", postgres(file, args.pg, args.database))
    print(f"\ntarget: first import < {TARGET_SECONDS:.0f} s — {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
