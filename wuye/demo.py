"""The demo dataset behind ``wuye demo``.

Two property companies. 安居物业 runs three communities in Hangzhou: two high-rise
residential estates (buildings with units, flats, underground parking spaces, street
shops, storage rooms) and one office tower; 禾信物业 in Suzhou is smaller. Residents have
common Chinese names, valid-looking mobiles and ID numbers; houses are owner-occupied,
rented, vacant or under renovation, with some moved-out history. Staff cover every
default role with communities and trades, and are on a roster for this week and next.

Everything is generated from one ``random.Random(seed)`` and written with
``bulk_create`` in one transaction (a few seconds on SQLite). The rows keep the
invariants the services enforce: houses carry their community's company and
community, residents belong to the house's company, at most one open residency per
person and house, move-out never before move-in, mobiles unique per login.
"""

import dataclasses
import datetime
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from wuye.accounts.models import User
from wuye.estates.models import Building, CommonArea, Community, Company, House, Unit
from wuye.estates.services import create_company
from wuye.people.models import Residency, Resident
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
from wuye.staff.policy import DEFAULT_ROLES

PASSWORD = "wuye-demo-2026"
SEED = 2026
RESIDENT_MOBILE = "13800138000"

COMPANY = {
    "name": "安居物业服务有限公司",
    "code": "anju",
    "contact_phone": "0571-88886666",
    "address": "浙江省杭州市西湖区文三路 508 号",
}
SECOND_COMPANY = {
    "name": "禾信物业管理有限公司",
    "code": "hexin",
    "contact_phone": "0512-65558888",
    "address": "江苏省苏州市吴中区东吴北路 299 号",
}

# The printed demo logins: (role label, username). Staff usernames are fixed below.
LOGINS = [
    ("公司管理员 admin", "admin"),
    ("项目经理 manager", "manager"),
    ("客服/调度 dispatcher", "dispatcher"),
    ("维修工 technician", "tech"),
    ("保安 guard", "guard"),
    ("保洁 cleaner", "cleaner"),
    ("绿化 gardener", "gardener"),
    ("财务 finance", "finance"),
    ("品质专员 quality", "quality"),
    ("业主 resident", RESIDENT_MOBILE),
    ("禾信物业 公司管理员 admin", "hexin_admin"),
]


def logins() -> list[tuple[str, str]]:
    """One demo login per role (all use ``PASSWORD``)."""
    return list(LOGINS)


def load(*, seed: int = SEED) -> bool:
    """Create the demo data unless it is there already; True when it was created."""
    if Company.objects.filter(code=COMPANY["code"]).exists():
        return False
    with transaction.atomic():
        _Builder(random.Random(seed), today=timezone.localdate()).build()
    return True


# --- Name, mobile and ID number generators ---------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
MALE_GIVEN = _words(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 旭 宁 龙 林 阳 "
    "建华 建国 志强 志明 海涛 晓东 文博 国庆 立新 永强 建军 振华 明辉 家豪 思远 博文 天宇 俊杰"
)
FEMALE_GIVEN = _words(
    "芳 娜 敏 静 丽 艳 娟 霞 婷 雪 琳 晶 颖 倩 丹 萍 红 玲 慧 燕 佳 "
    "秀英 桂英 玉兰 晓梅 海燕 丽华 美玲 春梅 雅婷 欣怡 思琪 佳怡 静怡 婉清 雨萱"
)
CHILD_GIVEN = _words("子轩 浩然 宇轩 梓涵 雨涵 诗涵 一诺 欣妍 沐辰 若汐 子墨 思彤 奕辰 语桐 皓轩")
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
)
# Administrative division codes that open a resident ID number.
ID_REGIONS = _words(
    "330106 330105 330102 330110 330108 330109 330204 330302 330602 320506 320106 340104 "
    "360102 410105 420106 430104 510107 610113 370212 350203"
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

SHOP_NAMES = _words(
    "便利店 洗衣店 大药房 水果店 面馆 理发店 快递驿站 房产中介 咖啡馆 母婴店 宠物店 烘焙坊 "
    "五金店 早餐店 花店 眼镜店 口腔诊所 培训中心 烟酒店 茶饮店"
)
FIRM_WORDS = _words(
    "云帆 启明 恒达 博远 睿思 星河 智联 汇通 鼎信 蓝海 卓越 华策 正元 嘉禾 新锐 东方"
)
FIRM_KINDS = (
    "科技有限公司",
    "信息技术有限公司",
    "文化传媒有限公司",
    "投资管理有限公司",
    "贸易有限公司",
    "建筑设计有限公司",
    "律师事务所",
    "会计师事务所",
    "网络科技有限公司",
    "教育咨询有限公司",
)


@dataclasses.dataclass
class _Person:
    resident: Resident
    houses: list = dataclasses.field(default_factory=list)


class _Builder:
    def __init__(self, rng: random.Random, today: datetime.date):
        self.rng = rng
        self.today = today
        # One PBKDF2 hash for every demo login: they share the demo password anyway,
        # and hashing thousands of times would take minutes.
        self.password_hash = make_password(PASSWORD)
        self.used_mobiles = {RESIDENT_MOBILE}
        self.used_ids: set[str] = set()
        self.houses: list[House] = []
        self.residents: list[Resident] = []
        self.residencies: list[Residency] = []

    # --- generators ----------------------------------------------------------
    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_mobiles:
                self.used_mobiles.add(number)
                return number

    def name(self, male: bool | None = None, surname: str | None = None) -> tuple[str, bool]:
        if male is None:
            male = self.rng.random() < 0.5
        surname = surname or self.rng.choice(SURNAMES)
        return surname + self.rng.choice(MALE_GIVEN if male else FEMALE_GIVEN), male

    def id_number(self, male: bool, born_from: int = 1955, born_to: int = 2000) -> str:
        while True:
            born = datetime.date(self.rng.randint(born_from, born_to), 1, 1) + datetime.timedelta(
                days=self.rng.randrange(365)
            )
            seq = self.rng.randrange(50) * 2 + (1 if male else 0) + 100 * self.rng.randrange(1, 10)
            body = f"{self.rng.choice(ID_REGIONS)}{born:%Y%m%d}{seq:03d}"
            number = (
                body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
            )
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def day(self, year_from: int, year_to: int) -> datetime.date:
        start = datetime.date(year_from, 1, 1)
        span = (datetime.date(year_to, 12, 31) - start).days
        return start + datetime.timedelta(days=self.rng.randrange(span + 1))

    def area(self, low: str, high: str) -> Decimal:
        low_cents, high_cents = int(Decimal(low) * 100), int(Decimal(high) * 100)
        return Decimal(self.rng.randint(low_cents, high_cents)) / 100

    # --- people --------------------------------------------------------------
    def person(
        self,
        company: Company,
        *,
        male: bool | None = None,
        surname: str | None = None,
        mobile: bool = True,
        id_number: bool = False,
        child: bool = False,
        note: str = "",
    ) -> Resident:
        if child:
            male = self.rng.random() < 0.5 if male is None else male
            name = (surname or self.rng.choice(SURNAMES)) + self.rng.choice(CHILD_GIVEN)
        else:
            name, male = self.name(male, surname)
        resident = Resident(
            company=company,
            name=name,
            mobile=self.mobile() if mobile else "",
            id_number=self.id_number(male) if id_number else "",
            note=note,
        )
        self.residents.append(resident)
        return resident

    def tie(self, resident, house, relation, move_in, move_out=None) -> None:
        self.residencies.append(
            Residency(
                resident=resident,
                house=house,
                relation=relation,
                move_in=move_in,
                move_out=move_out,
            )
        )

    # --- estate --------------------------------------------------------------
    def house(self, building, unit, number, floor, kind, built, indoor, occupancy) -> House:
        house = House(
            company_id=building.community.company_id,
            community=building.community,
            building=building,
            unit=unit,
            number=number,
            floor=floor,
            built_area=built,
            indoor_area=indoor,
            kind=kind,
            occupancy=occupancy,
        )
        self.houses.append(house)
        return house

    def occupancy(self, weights) -> str:
        kinds = [House.Occupancy.OWNER_OCCUPIED, House.Occupancy.RENTED]
        kinds += [House.Occupancy.VACANT, House.Occupancy.RENOVATING]
        return self.rng.choices(kinds, weights=weights)[0]

    def residential_estate(
        self, community, *, buildings, units, floors, per_floor, layouts, delivered
    ):
        """High-rise buildings with units; flats numbered floor+position, e.g. 0802."""
        owners = []
        sort = 0
        for b in range(1, buildings + 1):
            sort += 1
            building = Building.objects.create(
                community=community,
                name=f"{b}栋",
                floors_above=floors,
                floors_below=1,
                sort_order=sort,
            )
            CommonArea.objects.create(
                community=community, building=building, name=f"{b}栋大堂", kind="lobby"
            )
            CommonArea.objects.create(
                community=community, building=building, name=f"{b}栋电梯厅", kind="elevator"
            )
            for u in range(1, units + 1):
                unit = Unit.objects.create(building=building, name=f"{u}单元", sort_order=u)
                for floor in range(1, floors + 1):
                    for pos in range(1, per_floor + 1):
                        low, high = layouts[(pos - 1) % len(layouts)]
                        built = self.area(low, high)
                        indoor = (built * Decimal(self.rng.uniform(0.76, 0.84))).quantize(
                            Decimal("0.01")
                        )
                        occ = self.occupancy((70, 15, 12, 3))
                        house = self.house(
                            building,
                            unit,
                            f"{floor:02d}{pos:02d}",
                            floor,
                            House.Kind.RESIDENCE,
                            built,
                            indoor,
                            occ,
                        )
                        owner = self.populate_flat(community.company, house, delivered)
                        if owner is not None:
                            owners.append(owner)
        return owners, sort

    def populate_flat(self, company, house, delivered) -> Resident | None:
        """Owner, family, tenants and some history for one flat; returns the owner."""
        rng = self.rng
        occ = house.occupancy
        if occ == House.Occupancy.VACANT and rng.random() < 0.4:
            return None  # not sold yet: no one tied to it
        bought = self.day(delivered, 2023)
        if rng.random() < 0.06:
            # Resold: the previous owner's tie stays as history.
            previous = self.person(company, id_number=True)
            sold = self.day(delivered + 1, 2024)
            bought = min(sold, self.today)
            self.tie(
                previous, house, Residency.Relation.OWNER, self.day(delivered, delivered), sold
            )
        male_owner = rng.random() < 0.5
        owner = self.person(company, male=male_owner, id_number=True)
        self.tie(owner, house, Residency.Relation.OWNER, bought)
        if occ == House.Occupancy.OWNER_OCCUPIED:
            surname = owner.name[0]
            if rng.random() < 0.8:
                spouse = self.person(company, male=not male_owner, id_number=rng.random() < 0.5)
                self.tie(spouse, house, Residency.Relation.FAMILY, bought)
                if not male_owner:
                    surname = spouse.name[0]  # children usually take the father's surname
            for _ in range(rng.choices((0, 1, 2), weights=(35, 45, 20))[0]):
                kid = self.person(company, surname=surname, mobile=False, child=True)
                self.tie(kid, house, Residency.Relation.FAMILY, bought)
            if rng.random() < 0.15:
                elder = self.person(company, surname=surname, mobile=rng.random() < 0.6)
                self.tie(elder, house, Residency.Relation.FAMILY, bought)
        elif occ == House.Occupancy.RENTED:
            if rng.random() < 0.35:
                former = self.person(company)
                start = self.day(2020, 2022)
                end = min(start + datetime.timedelta(days=365 * rng.randint(1, 2)), self.today)
                self.tie(former, house, Residency.Relation.TENANT, start, end)
                since = end + datetime.timedelta(days=rng.randint(3, 40))
            else:
                since = self.day(2023, 2025)
            since = min(since, self.today)
            for _ in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
                tenant = self.person(company, id_number=rng.random() < 0.6)
                self.tie(tenant, house, Residency.Relation.TENANT, since)
        return owner

    def parking(self, community, owners, count, sort):
        building = Building.objects.create(
            community=community, name="地下车位", floors_above=0, floors_below=1, sort_order=sort
        )
        for n in range(1, count + 1):
            roll = self.rng.random()
            if roll < 0.55 and owners:
                occ = House.Occupancy.OWNER_OCCUPIED
            elif roll < 0.7:
                occ = House.Occupancy.RENTED
            else:
                occ = House.Occupancy.VACANT
            house = self.house(
                building,
                None,
                f"B1-{n:03d}",
                -1,
                House.Kind.PARKING,
                self.area("12.50", "15.00"),
                None,
                occ,
            )
            if occ == House.Occupancy.OWNER_OCCUPIED:
                # A flat owner also holds a parking space: one resident, several houses.
                owner = self.rng.choice(owners)
                self.tie(owner, house, Residency.Relation.OWNER, self.day(2018, 2024))
            elif occ == House.Occupancy.RENTED:
                self.tie(
                    self.person(community.company),
                    house,
                    Residency.Relation.TENANT,
                    self.day(2023, 2025),
                )

    def shops(self, community, count, sort, name="沿街商铺", floors=2, prefix="S"):
        building = Building.objects.create(
            community=community, name=name, floors_above=floors, sort_order=sort
        )
        for n in range(1, count + 1):
            floor = 1 if n <= (count + 1) // 2 or floors == 1 else 2
            occ = self.occupancy((20, 65, 15, 0))
            house = self.house(
                building,
                None,
                f"{prefix}{floor}{n:02d}",
                floor,
                House.Kind.SHOP,
                self.area("38.00", "160.00"),
                None,
                occ,
            )
            if occ == House.Occupancy.VACANT:
                continue
            owner = self.person(community.company, id_number=True)
            self.tie(owner, house, Residency.Relation.OWNER, self.day(2017, 2022))
            if occ == House.Occupancy.RENTED:
                shop = self.rng.choice(SHOP_NAMES)
                tenant = self.person(community.company, note=f"{shop}经营者")
                self.tie(tenant, house, Residency.Relation.TENANT, self.day(2022, 2025))

    def storage(self, community, count, sort):
        building = Building.objects.create(
            community=community, name="地下储藏室", floors_above=0, floors_below=1, sort_order=sort
        )
        for n in range(1, count + 1):
            self.house(
                building,
                None,
                f"C-{n:03d}",
                -1,
                House.Kind.STORAGE,
                self.area("6.00", "15.00"),
                None,
                House.Occupancy.VACANT,
            )

    def office_tower(self, community):
        building = Building.objects.create(
            community=community, name="主楼", floors_above=28, floors_below=3, sort_order=1
        )
        CommonArea.objects.create(
            community=community, building=building, name="一楼大堂", kind="lobby"
        )
        CommonArea.objects.create(
            community=community, building=building, name="屋顶平台", kind="roof"
        )
        CommonArea.objects.create(
            community=community, building=building, name="消防控制室", kind="other"
        )
        for n in range(1, 9):
            occ = self.occupancy((10, 80, 10, 0))
            house = self.house(
                building,
                None,
                f"1{n:02d}" if n <= 5 else f"2{n - 5:02d}",
                1 if n <= 5 else 2,
                House.Kind.SHOP,
                self.area("60.00", "220.00"),
                None,
                occ,
            )
            if occ == House.Occupancy.RENTED:
                shop = self.rng.choice(("咖啡馆", "便利店", "餐厅", "银行网点", "健身房"))
                tenant = self.person(community.company, note=f"{shop}经营者")
                self.tie(tenant, house, Residency.Relation.TENANT, self.day(2021, 2025))
        investors = [self.person(community.company, id_number=True) for _ in range(12)]
        for floor in range(3, 29):
            for pos in range(1, 7):
                occ = self.occupancy((8, 72, 14, 6))
                built = self.area("120.00", "480.00")
                house = self.house(
                    building,
                    None,
                    f"{floor:02d}{pos:02d}",
                    floor,
                    House.Kind.OFFICE,
                    built,
                    (built * Decimal("0.72")).quantize(Decimal("0.01")),
                    occ,
                )
                owner = self.rng.choice(investors)
                self.tie(owner, house, Residency.Relation.OWNER, self.day(2019, 2021))
                if occ in (House.Occupancy.RENTED, House.Occupancy.RENOVATING):
                    firm = "杭州" + self.rng.choice(FIRM_WORDS) + self.rng.choice(FIRM_KINDS)
                    contact = self.person(community.company, note=f"{firm} 行政联系人")
                    self.tie(contact, house, Residency.Relation.TENANT, self.day(2022, 2025))

    def common_areas(self, community, names):
        CommonArea.objects.bulk_create(
            CommonArea(community=community, name=name, kind=kind) for name, kind in names
        )

    # --- staff ---------------------------------------------------------------
    def staff(self, company, plan, prefix):
        """``plan``: (username or None, role code, communities, trade codes, off duty?)."""
        roles = {r.code: r for r in Role.objects.filter(company=company)}
        trades = {t.code: t for t in Trade.objects.filter(company=company)}
        users, members = [], []
        for n, (username, _role, _communities, _trades, off_duty) in enumerate(plan, 1):
            name, _male = self.name()
            mobile = self.mobile()
            users.append(
                User(
                    username=username or f"{prefix.lower()}{n:04d}",
                    first_name=name,
                    mobile=mobile,
                    password=self.password_hash,
                )
            )
            members.append(
                StaffMember(
                    company=company,
                    employee_no=f"{prefix}{n:04d}",
                    name=name,
                    mobile=mobile,
                    status=StaffMember.Status.OFF_DUTY if off_duty else StaffMember.Status.ON_DUTY,
                )
            )
        User.objects.bulk_create(users)
        for user, member in zip(users, members, strict=True):
            member.user = user
        StaffMember.objects.bulk_create(members)
        through_roles, through_comms, through_trades = [], [], []
        for member, (_username, role, communities, trade_codes, _off) in zip(
            members, plan, strict=True
        ):
            through_roles.append(
                StaffMember.roles.through(staffmember_id=member.pk, role_id=roles[role].pk)
            )
            for community in communities:
                through_comms.append(
                    StaffMember.communities.through(
                        staffmember_id=member.pk, community_id=community.pk
                    )
                )
            for code in trade_codes:
                through_trades.append(
                    StaffMember.trades.through(staffmember_id=member.pk, trade_id=trades[code].pk)
                )
        StaffMember.roles.through.objects.bulk_create(through_roles)
        StaffMember.communities.through.objects.bulk_create(through_comms)
        StaffMember.trades.through.objects.bulk_create(through_trades)
        return list(zip(members, plan, strict=True))

    def roster(self, company, staff):
        """This week and next: guards in three rotating shifts, dispatchers in two, the
        rest on the day shift on working days; everyone gets rest days."""
        shifts = {s.name: s for s in Shift.objects.filter(company=company)}
        monday = self.today - datetime.timedelta(days=self.today.weekday())
        days = [monday + datetime.timedelta(days=i) for i in range(14)]
        entries = []
        by_role_community: dict[tuple[str, int], list[StaffMember]] = {}
        for member, (_u, role, communities, _t, _off) in staff:
            if DEFAULT_ROLES[role][2]:  # company-wide roles work office hours, unrostered
                continue
            for community in communities[:1]:
                by_role_community.setdefault((role, community.pk), []).append(member)
        for (role, community_id), members in by_role_community.items():
            for i, member in enumerate(members):
                for d, date in enumerate(days):
                    if role == "guard":
                        # Four-team rotation: 早, 中, 夜, rest.
                        slot = (d + i) % 4
                        if slot == 3:
                            continue
                        shift = ("早班", "中班", "夜班")[slot]
                    elif role == "dispatcher":
                        if (d + i) % 7 == 6:
                            continue
                        shift = "早班" if i % 2 == 0 else "中班"
                    else:
                        # Staggered two rest days a week, so weekends are covered too.
                        if (date.weekday() + i) % 7 in (5, 6):
                            continue
                        shift = "常白班"
                    entries.append(
                        RosterEntry(
                            staff=member,
                            date=date,
                            shift=shifts[shift],
                            community_id=community_id,
                        )
                    )
        RosterEntry.objects.bulk_create(entries)

    # --- the whole dataset ---------------------------------------------------
    def build(self) -> None:
        anju = create_company(**COMPANY)
        cuihu = Community.objects.create(
            company=anju,
            name="翠湖花园",
            code="cuihu",
            kind=Community.Kind.RESIDENTIAL,
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address="文一西路 1288 号",
            service_phone="0571-88881001",
        )
        jinxiu = Community.objects.create(
            company=anju,
            name="锦绣苑",
            code="jinxiu",
            kind=Community.Kind.RESIDENTIAL,
            province="浙江省",
            city="杭州市",
            district="拱墅区",
            address="莫干山路 968 号",
            service_phone="0571-88881002",
        )
        tower = Community.objects.create(
            company=anju,
            name="钱江中心大厦",
            code="qianjiang",
            kind=Community.Kind.OFFICE,
            province="浙江省",
            city="杭州市",
            district="上城区",
            address="钱江路 1366 号",
            service_phone="0571-88881003",
        )
        estate_areas = [
            ("地下车库", "garage"),
            ("中心花园", "garden"),
            ("儿童游乐场", "playground"),
            ("生活泵房", "pump_room"),
            ("消防泵房", "pump_room"),
            ("1号配电房", "power_room"),
            ("2号配电房", "power_room"),
            ("南大门", "entrance"),
            ("北大门", "entrance"),
            ("垃圾分类投放点", "other"),
        ]
        self.common_areas(cuihu, estate_areas)
        self.common_areas(jinxiu, [a for a in estate_areas if a[0] != "2号配电房"])
        self.common_areas(
            tower,
            [
                ("地下车库", "garage"),
                ("生活泵房", "pump_room"),
                ("高压配电房", "power_room"),
                ("主入口", "entrance"),
            ],
        )

        owners, sort = self.residential_estate(
            cuihu,
            buildings=6,
            units=2,
            floors=26,
            per_floor=2,
            layouts=(("88.00", "96.00"), ("125.00", "143.00")),
            delivered=2016,
        )
        self.parking(cuihu, owners, 150, sort + 1)
        self.shops(cuihu, 24, sort + 2)
        owners, sort = self.residential_estate(
            jinxiu,
            buildings=5,
            units=2,
            floors=24,
            per_floor=2,
            layouts=(("78.00", "92.00"), ("105.00", "128.00")),
            delivered=2019,
        )
        self.parking(jinxiu, owners, 110, sort + 1)
        self.shops(jinxiu, 12, sort + 2, floors=1)
        self.storage(jinxiu, 40, sort + 3)
        self.office_tower(tower)

        hexin = create_company(**SECOND_COMPANY)
        fenglin = Community.objects.create(
            company=hexin,
            name="枫林湾",
            code="fenglin",
            kind=Community.Kind.RESIDENTIAL,
            province="江苏省",
            city="苏州市",
            district="吴中区",
            address="东吴北路 88 号",
            service_phone="0512-65551001",
        )
        self.common_areas(
            fenglin, [("地下车库", "garage"), ("中心花园", "garden"), ("泵房", "pump_room")]
        )
        self.residential_estate(
            fenglin,
            buildings=2,
            units=2,
            floors=11,
            per_floor=2,
            layouts=(("89.00", "99.00"), ("118.00", "135.00")),
            delivered=2015,
        )
        self.the_demo_resident(cuihu)
        self.write_people()

        comms = [cuihu, jinxiu, tower]
        everywhere = comms
        plan = [
            ("admin", "company_admin", everywhere, (), False),
            ("finance", "finance", everywhere, (), False),
            (None, "finance", everywhere, (), False),
            ("quality", "quality", everywhere, (), False),
            ("manager", "project_manager", [cuihu], (), False),
            (None, "project_manager", [jinxiu], (), False),
            (None, "project_manager", [tower], (), False),
            ("dispatcher", "dispatcher", [cuihu], (), False),
            (None, "dispatcher", [cuihu], (), False),
            (None, "dispatcher", [jinxiu], (), False),
            (None, "dispatcher", [jinxiu], (), False),
            (None, "dispatcher", [tower], (), False),
            ("tech", "technician", [cuihu], ("plumbing_electric", "pipes"), False),
            (None, "technician", [cuihu], ("doors_windows", "civil"), False),
            (None, "technician", [cuihu], ("low_voltage",), True),
            (None, "technician", [jinxiu], ("plumbing_electric", "pipes"), False),
            (None, "technician", [jinxiu], ("doors_windows", "civil"), False),
            (None, "technician", [tower], ("plumbing_electric", "low_voltage"), False),
            (None, "technician", [tower, cuihu, jinxiu], ("elevator",), False),
            ("gardener", "gardener", [cuihu], (), False),
            (None, "gardener", [cuihu], (), False),
            (None, "gardener", [jinxiu], (), False),
            (None, "gardener", [jinxiu], (), False),
        ]
        plan += [("guard" if i == 0 else None, "guard", [cuihu], (), False) for i in range(6)]
        plan += [(None, "guard", [jinxiu], (), i == 4) for i in range(5)]
        plan += [(None, "guard", [tower], (), False) for i in range(4)]
        plan += [("cleaner" if i == 0 else None, "cleaner", [cuihu], (), False) for i in range(4)]
        plan += [(None, "cleaner", [jinxiu], (), False) for i in range(3)]
        plan += [(None, "cleaner", [tower], (), False) for i in range(3)]
        self.roster(anju, self.staff(anju, plan, "AJ"))

        hexin_plan = [
            ("hexin_admin", "company_admin", [fenglin], (), False),
            (None, "project_manager", [fenglin], (), False),
            (None, "dispatcher", [fenglin], (), False),
            (None, "technician", [fenglin], ("plumbing_electric", "pipes", "civil"), False),
            (None, "guard", [fenglin], (), False),
            (None, "guard", [fenglin], (), False),
            (None, "guard", [fenglin], (), False),
            (None, "cleaner", [fenglin], (), False),
            (None, "gardener", [fenglin], (), False),
            (None, "finance", [fenglin], (), False),
        ]
        self.roster(hexin, self.staff(hexin, hexin_plan, "HX"))

    def the_demo_resident(self, community) -> None:
        """The printed resident login: owner of 1栋1单元0802, with a parking space too."""
        house = next(
            h
            for h in self.houses
            if h.community is community
            and h.building.name == "1栋"
            and h.unit.name == "1单元"
            and h.number == "0802"
        )
        house.occupancy = House.Occupancy.OWNER_OCCUPIED
        # Whoever the generator tied to this flat moved out before the demo family came.
        moved = self.today - datetime.timedelta(days=400)
        for tie in self.residencies:
            if tie.house is house and (tie.move_out is None or tie.move_out > moved):
                tie.move_out = moved
                if tie.move_in and tie.move_in > moved:
                    tie.move_in = moved - datetime.timedelta(days=365)
        since = moved + datetime.timedelta(days=30)
        resident = Resident(
            company=community.company,
            name="陈晓梅",
            mobile=RESIDENT_MOBILE,
            id_number=self.id_number(male=False, born_from=1985, born_to=1988),
        )
        self.residents.append(resident)
        self.tie(resident, house, Residency.Relation.OWNER, since)
        spouse = self.person(community.company, male=True, surname="周")
        self.tie(spouse, house, Residency.Relation.FAMILY, since)
        kid = self.person(community.company, surname="周", mobile=False, child=True)
        self.tie(kid, house, Residency.Relation.FAMILY, since)
        space = next(
            h
            for h in self.houses
            if h.community is community
            and h.kind == House.Kind.PARKING
            and h.occupancy == House.Occupancy.VACANT
        )
        space.occupancy = House.Occupancy.OWNER_OCCUPIED
        self.tie(resident, space, Residency.Relation.OWNER, since)

    def write_people(self) -> None:
        """Houses, then login accounts (resident mobiles), residents and residencies."""
        House.objects.bulk_create(self.houses, batch_size=1000)
        users = []
        for resident in self.residents:
            if resident.mobile:
                usable = resident.mobile == RESIDENT_MOBILE
                user = User(
                    username=resident.mobile,
                    mobile=resident.mobile,
                    first_name=resident.name,
                    password=self.password_hash if usable else make_password(None),
                )
                resident.user = user
                users.append(user)
        User.objects.bulk_create(users, batch_size=1000)
        for resident in self.residents:
            if resident.user is not None:
                resident.user_id = resident.user.pk
        Resident.objects.bulk_create(self.residents, batch_size=1000)
        for tie in self.residencies:
            tie.resident_id = tie.resident.pk
            tie.house_id = tie.house.pk
        Residency.objects.bulk_create(self.residencies, batch_size=1000)
