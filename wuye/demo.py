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
from unittest import mock

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from wuye import demo_privacy
from wuye.accounts.actor import Actor
from wuye.accounts.models import User
from wuye.demo_billing import BillingDemo
from wuye.demo_engagement import EngagementDemo
from wuye.demo_facilities import FacilitiesDemo
from wuye.demo_quality import QualityDemo
from wuye.estates.models import Building, CommonArea, Community, Company, House, Unit
from wuye.estates.services import create_company
from wuye.notifications.services import delivered_together
from wuye.people.models import Residency, Resident
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
from wuye.staff.policy import DEFAULT_ROLES
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, Feedback, RequestType, Status, WorkOrder
from wuye.workorders.notices import remembered_audiences
from wuye.workorders.sweep import sweep_sla
from wuye.workorders.timeouts import run_timeouts

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
    ("客服主管 supervisor", "supervisor"),
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

    def roster(self, company, staff, weeks=range(2)):
        """This week and next (``weeks`` counts from this Monday): guards in three
        rotating shifts, dispatchers in two, the rest on the day shift on working days;
        everyone gets rest days."""
        shifts = {s.name: s for s in Shift.objects.filter(company=company)}
        monday = self.today - datetime.timedelta(days=self.today.weekday())
        days = [monday + datetime.timedelta(days=i) for i in range(weeks.start * 7, weeks.stop * 7)]
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
        # Teams for the routine rounds: a plan falls back to an on-shift team member.
        Trade.objects.bulk_create(
            Trade(company=anju, code=code, name=name)
            for code, name in (("security", "秩序维护"), ("cleaning", "保洁"), ("greening", "绿化"))
        )
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
            ("gardener", "gardener", [cuihu], ("greening",), False),
            (None, "gardener", [cuihu], ("greening",), False),
            (None, "gardener", [jinxiu], ("greening",), False),
            (None, "gardener", [jinxiu], ("greening",), False),
        ]
        plan += [
            ("guard" if i == 0 else None, "guard", [cuihu], ("security",), False) for i in range(6)
        ]
        plan += [(None, "guard", [jinxiu], ("security",), i == 4) for i in range(5)]
        plan += [(None, "guard", [tower], ("security",), False) for i in range(4)]
        plan += [
            ("cleaner" if i == 0 else None, "cleaner", [cuihu], ("cleaning",), False)
            for i in range(4)
        ]
        plan += [(None, "cleaner", [jinxiu], ("cleaning",), False) for i in range(3)]
        plan += [(None, "cleaner", [tower], ("cleaning",), False) for i in range(3)]
        # 客服主管 handle complaints; added last so the numbering above stays put.
        plan += [
            ("supervisor", "service_supervisor", [cuihu], (), False),
            (None, "service_supervisor", [jinxiu], (), False),
            (None, "service_supervisor", [tower], (), False),
        ]
        anju_staff = self.staff(anju, plan, "AJ")
        self.roster(anju, anju_staff)

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
        _WorkOrders(self, anju_staff, {c.code: c for c in comms}).play()
        # The two past weeks' roster, for the rounds' history (added after the service
        # stories, whose dispatching was written against this week's roster).
        self.roster(anju, anju_staff, weeks=range(-2, 0))
        FacilitiesDemo(self.rng, self.today, anju, {c.code: c for c in comms}, anju_staff).build()
        BillingDemo(self.rng, self.today, {c.code: c for c in comms}, anju_staff).build()
        EngagementDemo(self.rng, self.today, {c.code: c for c in comms}, anju_staff).build()
        QualityDemo(self.rng, self.today, {c.code: c for c in comms}, anju_staff).build()
        demo_privacy.build(anju, self.today)

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
        self.demo_resident, self.demo_home = resident, house
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
        self.demo_space = space

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


# --- Work orders --------------------------------------------------------------
# Forty-odd requests of the last two weeks, each a short story replayed through the real
# services (wuye.workorders.services; accepting an automatic-mode order runs
# wuye.workorders.dispatch.auto_dispatch) with the clock held at the moment of each
# step, so numbers, timelines, SLA deadlines and breaches are what the system would
# have produced. Stories are replayed in time order across orders, with the minute
# jobs (the SLA sweep, the take and rating timeouts) run before each step and once
# more at the end, so the scheduler finds nothing left to change.
#
# Who: "me" is the printed resident; "resident" (default) a resident of the community
# picked by the seed; "phone" the desk recording a resident's call; "staff:<key>" a
# colleague reporting on patrol. Where: "home" (the reporter's house), "parking" (the
# printed resident's space) or a common area's name. When: ("ago", minutes) before
# the load, or ("day", n, "HH:MM") n days ago. Each step is minutes after submission
# and acts as the community's desk (客服主管 for complaints: accept, dispatch, resolve,
# cause, reject, visit), the assignee (take, arrive, pause, complete) or the reporter
# (rate, urge, reopen, cancel) unless ``by`` names someone.

STAFF_KEYS = {
    # key: (role, community code, trade or None, n-th match)
    "desk": ("dispatcher", "cuihu", None, 0),
    "sup": ("service_supervisor", "cuihu", None, 0),
    "tech": ("technician", "cuihu", "pipes", 0),
    "doors": ("technician", "cuihu", "doors_windows", 0),
    "lift": ("technician", "cuihu", "elevator", 0),
    "guard": ("guard", "cuihu", None, 0),
    "cleaner": ("cleaner", "cuihu", None, 0),
    "gardener": ("gardener", "cuihu", None, 0),
    "j.desk": ("dispatcher", "jinxiu", None, 0),
    "j.sup": ("service_supervisor", "jinxiu", None, 0),
    "j.tech": ("technician", "jinxiu", "pipes", 0),
    "j.doors": ("technician", "jinxiu", "doors_windows", 0),
    "j.cleaner": ("cleaner", "jinxiu", None, 0),
    "q.desk": ("dispatcher", "qianjiang", None, 0),
    "q.sup": ("service_supervisor", "qianjiang", None, 0),
    "q.tech": ("technician", "qianjiang", "low_voltage", 0),
    "q.guard": ("guard", "qianjiang", None, 0),
}
# community: (desk, complaints desk)
DESKS = {"cuihu": ("desk", "sup"), "jinxiu": ("j.desk", "j.sup"), "qianjiang": ("q.desk", "q.sup")}


@dataclasses.dataclass(frozen=True)
class Story:
    key: str
    community: str
    category: str
    description: str
    when: tuple
    who: str = "resident"
    where: str = "home"
    steps: tuple = ()
    preferred_time: str = ""
    complaint: tuple = ()  # (field, value) pairs; party_staff names a STAFF_KEYS key


def _step(minutes: int, action: str, **kwargs) -> tuple[int, str, dict]:
    return (minutes, action, kwargs)


def _rate(minutes, overall, dims, comment="", reasons=()):
    return _step(
        minutes,
        "rate",
        overall=overall,
        comment=comment,
        reasons=reasons,
        **dict(zip(Feedback.DIMENSIONS, dims, strict=True)),
    )


def _materials(*rows):
    return [{"name": n, "quantity": Decimal(q), "unit_price": Decimal(p)} for n, q, p in rows]


s = _step
STORIES = (
    # --- 翠湖花园: the printed resident -------------------------------------------
    Story("me_toilet", "cuihu", "taps_toilets",
          "卫生间马桶水箱一直在流水，晚上能听到哗哗的声音，水费都高了",
          ("day", 2, "19:40"), who="me", preferred_time="工作日晚上或周末", steps=(
              s(8, "accept"), s(15, "dispatch", to="tech"), s(32, "take"), s(800, "arrive"),
              s(845, "complete", resolution="更换马桶进水阀和止水阀密封圈，试水正常，不再流水",
                materials=_materials(("马桶进水阀", "1", "45.00"), ("止水阀密封圈", "2", "5.00")),
                labour_amount="30.00"))),
    Story("me_leak", "cuihu", "water_leak",
          "厨房水槽下水管漏水，地板已经湿了",
          ("ago", 210), who="me", steps=(
              s(4, "accept"), s(6, "dispatch", to="tech"), s(9, "take"), s(27, "arrive"),
              s(150, "urge", note="师傅说去拿配件，一个多小时了还没回来，水还在滴"))),
    Story("me_noise", "cuihu", "noise_renovation",
          "楼上装修噪音，晚上十点后还在施工，电钻声吵得孩子没法睡觉",
          ("ago", 25), who="me",
          complaint=(("party_kind", "neighbour"), ("demand", "请物业上门制止夜间施工"))),
    Story("me_light", "cuihu", "lights_sockets",
          "客厅吊灯不亮了，换了灯泡也不行，可能是开关坏了",
          ("day", 12, "10:15"), who="me", steps=(
              s(10, "accept"), s(20, "dispatch", to="tech"), s(35, "take"), s(140, "arrive"),
              s(170, "complete", resolution="更换客厅墙壁开关一个，测试正常",
                materials=_materials(("墙壁开关", "1", "18.00")), labour_amount="20.00"),
              _rate(300, 5, (5, 5, 4, 5, 5), "师傅很准时，修完还帮忙把灯罩擦干净了，点赞！",
                    ("on_time", "fixed_well", "clean")))),
    Story("me_garbage", "cuihu", "garbage",
          "小区垃圾分类投放点的垃圾桶满了没人清，味道很大，苍蝇特别多",
          ("day", 9, "08:30"), who="me", where="垃圾分类投放点", steps=(
              s(20, "accept"), s(25, "dispatch", to="cleaner"), s(40, "take"), s(55, "arrive"),
              s(100, "complete", resolution="已清运垃圾并冲洗垃圾桶，每天下午增加一次清运"),
              _rate(360, 4, (4, 4, 5, 4, 3), "处理挺快，希望以后能按时清运", ("on_time",)),
              s(1500, "visit", satisfied=True, note="电话回访：垃圾点已按时清运，业主满意",
                root_cause="environment", root_cause_note="周末清运班次不足"))),
    Story("me_card", "cuihu", "locks_access",
          "单元门禁刷卡没反应，只能等别人开门",
          ("day", 5, "21:05"), who="me", steps=(
              s(40, "cancel", reason="换了一张卡可以刷了，不用来了，谢谢"),)),
    Story("me_fee", "cuihu", "fee_question",
          "想问一下车位管理费怎么交，能不能和物业费一起交？",
          ("day", 6, "14:20"), who="me", steps=(
              s(15, "accept"),
              s(45, "resolve",
                resolution="已电话答复：车位管理费可在物业服务中心或线上与物业费合并缴纳，按季度收取"),
              _rate(120, 5, (5, 5, 5, 5, 4), "回复很清楚，谢谢"))),
    Story("me_parking", "cuihu", "parking_order",
          "我的车位又被别人的车占了，车窗上也没留挪车电话",
          ("ago", 300), who="me", where="parking", steps=(
              s(8, "accept"), s(12, "dispatch", to="guard"), s(15, "take"), s(25, "arrive"),
              s(50, "complete", resolution="已通过车牌查询联系车主挪车，并在车位张贴提醒"),
              _rate(120, 4, (4, 5, 4, 4, 4), "处理及时，希望地库多巡查", ("on_time", "friendly")))),
    # --- 翠湖花园: neighbours, the technician's day, the grab pool ------------------
    Story("tap", "cuihu", "taps_toilets",
          "卫生间洗手盆水龙头关不紧，一直滴水",
          ("ago", 15), preferred_time="今天下午", steps=(
              s(3, "accept"), s(5, "dispatch", to="tech"))),
    Story("pump", "cuihu", "water_leak",
          "巡逻发现生活泵房进水管接头渗水，地面已有积水",
          ("ago", 27), who="staff:guard", where="生活泵房", steps=(
              s(4, "accept"), s(6, "dispatch", to="tech"), s(12, "take"))),
    Story("socket", "cuihu", "lights_sockets",
          "厨房插座一插电饭煲就跳闸，整个厨房都没电",
          ("day", 2, "18:30"), steps=(
              s(10, "accept"), s(15, "dispatch", to="tech"), s(30, "take"), s(900, "arrive"),
              s(940, "pause",
                reason="漏电保护开关损坏，需更换同型号配件，已下单，到货后上门更换"))),
    Story("well", "cuihu", "sewage",
          "中心花园旁边的污水井往外冒水，气味很重",
          ("ago", 35), where="中心花园", steps=(s(5, "accept"),)),
    Story("window", "cuihu", "windows_glass",
          "客厅推拉窗滑轮坏了，窗户推不动，也关不严",
          ("day", 4, "10:00"), preferred_time="明天上午", steps=(
              s(12, "accept"), s(40, "grab", by="doors"), s(1380, "arrive"),
              s(1440, "complete", resolution="更换推拉窗滑轮4个，调整轨道并加润滑",
                materials=_materials(("推拉窗滑轮", "4", "12.00")), labour_amount="50.00"),
              _rate(1600, 2, (2, 3, 3, 2, 3),
                    "师傅比约定时间晚了两个小时，也没提前打电话。修完窗户推起来还是有点卡。",
                    ("slow", "not_fixed")))),
    Story("closer", "cuihu", "locks_access",
          "3栋1单元单元门闭门器坏了，门关不上，晚上谁都能进出",
          ("day", 4, "16:30"), who="staff:guard", where="3栋大堂", steps=(
              s(10, "accept"), s(30, "grab", by="doors"), s(50, "arrive"))),
    Story("trapped", "cuihu", "elevator_trapped",
          "2栋1号电梯困人，里面有一位老人，请尽快！",
          ("day", 3, "07:50"), who="phone", where="2栋电梯厅", steps=(
              s(2, "dispatch", to="lift"), s(3, "take"), s(12, "arrive"),
              s(25, "complete",
                resolution="已解救被困人员，系电梯门机板故障，已临时修复并通知维保单位检修"),
              _rate(240, 5, (5, 5, 5, 5, 4), "师傅十分钟就到了，老人没事，非常感谢！",
                    ("on_time", "friendly")),
              s(1500, "visit", satisfied=True, note="电话回访：维保单位已更换门机板，业主满意"))),
    Story("lift_door", "cuihu", "elevator_fault",
          "电梯3号梯门关不上，反复开关好几次才能走",
          ("ago", 130), where="3栋电梯厅", steps=(
              s(5, "accept"), s(6, "dispatch", to="lift"), s(8, "take"), s(25, "arrive"),
              s(60, "pause", reason="门机皮带老化需更换，已联系电梯维保单位，预计下午到场"))),
    Story("lift_again", "cuihu", "elevator_fault",
          "3栋的电梯门一直关不上，老人小孩进出很危险",
          ("ago", 110), where="3栋电梯厅", steps=(
              s(6, "reject", duplicate_of="lift_door",
                reason="同一故障已在处理，合并到先前的报修单"),)),
    Story("lawn", "cuihu", "greening_care",
          "中心花园的草坪好久没修剪了，杂草长得很高，晚上蚊子特别多",
          ("day", 3, "17:00"), where="中心花园", steps=(
              s(900, "accept"), s(910, "dispatch", to="gardener"), s(930, "take"))),
    Story("gate", "cuihu", "security",
          "晚上北大门有外卖电动车随意进出，门岗也不拦，感觉不安全",
          ("day", 2, "22:10"), where="北大门", steps=(
              s(610, "accept"), s(620, "dispatch", to="guard"), s(630, "take"),
              s(660, "arrive"))),
    Story("chopping", "cuihu", "noise_neighbour",
          "隔壁单元每天早上六点就开始剁肉，声音很大，已经影响休息一个多月了",
          ("day", 8, "07:10"),
          complaint=(("party_kind", "neighbour"), ("demand", "请物业协调，早上七点前不要剁肉")),
          steps=(
              s(90, "accept"), s(100, "dispatch", to="guard"), s(110, "take"), s(300, "arrive"),
              s(330, "complete", resolution="已上门与邻居沟通，对方表示会注意时间，改到七点以后"),
              _rate(1500, 3, (3, 4, 3, 3, 3), "沟通了，但是没什么效果"),
              s(2900, "visit", satisfied=False, note="回访时业主反映噪音依旧，要求再次上门协调",
                root_cause="neighbour"),
              s(3000, "dispatch", to="guard"), s(3010, "take"))),
    Story("shade", "cuihu", "general_suggestion",
          "建议在儿童游乐场加装遮阳棚，夏天滑梯太烫了，孩子没法玩",
          ("day", 10, "20:15"), where="儿童游乐场", steps=(
              s(780, "accept"),
              s(1500, "resolve", resolution="感谢建议，已纳入年度改造计划，预计明年五月前完成安装"),
              _rate(2000, 5, (5, 5, 5, 5, 5), "回复很认真，期待早日装好"))),
    Story("thanks_clean", "cuihu", "general_praise",
          "表扬保洁阿姨，每天把我们单元楼道拖得干干净净，垃圾也及时清理",
          ("day", 7, "09:30"), steps=(
              s(30, "accept"),
              s(120, "resolve", resolution="已将表扬转达本人，并在保洁班组例会上通报表扬"),
              _rate(600, 5, (5, 5, 5, 5, 5), "谢谢物业"))),
    Story("pet_mess", "cuihu", "corridor_cleaning",
          "5栋电梯厅地上有狗的粪便，一早上了都没人清理",
          ("ago", 90), where="5栋电梯厅", steps=(
              s(20, "accept"), s(25, "dispatch", to="cleaner"), s(35, "take"))),
    Story("renovate", "cuihu", "general_inquiry",
          "家里准备装修，需要办理什么手续？要交装修押金吗？",
          ("ago", 1200), steps=(s(45, "accept"),)),
    Story("hall_light", "cuihu", "lighting",
          "1栋大堂的灯一半不亮，晚上进出很暗",
          ("day", 5, "19:20"), where="1栋大堂", steps=(
              s(800, "accept"), s(810, "dispatch", to="doors"), s(830, "take"), s(870, "arrive"),
              s(900, "complete", resolution="更换大堂吸顶灯灯管3根"),
              _rate(1100, 4, (4, 4, 4, 4, 4)),
              s(4920, "reopen", reason="才修好两天，又有两盏灯不亮了"))),
    # --- 锦绣苑 -----------------------------------------------------------------------
    Story("j_power", "jinxiu", "power_cut",
          "整栋楼突然停电了，电梯也停了，家里有老人",
          ("ago", 45), who="phone", steps=(
              s(3, "dispatch", to="j.tech"), s(8, "take"),
              s(40, "urge", note="已经四十分钟了，师傅到了没有？"))),
    Story("j_ceiling", "jinxiu", "water_leak",
          "楼上卫生间漏水，我家天花板在滴水，墙皮都泡起来了",
          ("day", 3, "20:30"), steps=(
              s(5, "accept"), s(8, "dispatch", to="j.tech"), s(15, "take"), s(35, "arrive"),
              s(130, "complete",
                resolution="查明为楼上卫生间防水层老化，已关阀止漏；建议楼上业主做闭水试验后重做防水"),
              _rate(900, 5, (5, 5, 5, 5, 4), "师傅晚上九点多还赶过来，态度很好",
                    ("on_time", "friendly")))),
    Story("j_drain", "jinxiu", "drain_blocked",
          "卫生间地漏堵了，洗澡水下不去，已经漫到门口了",
          ("day", 2, "08:40"), steps=(
              s(6, "accept"), s(20, "grab", by="j.tech"), s(50, "arrive"),
              s(90, "complete", resolution="疏通卫生间地漏，清出大量头发，试水正常"),
              _rate(300, 4, (4, 4, 4, 5, 4)))),
    Story("j_streetlight", "jinxiu", "lighting",
          "南大门进来那排路灯不亮好几天了，晚上走路看不见",
          ("ago", 2040), where="南大门"),
    Story("j_swing", "jinxiu", "facility_damage",
          "儿童游乐场的秋千链条断了一根，小孩玩很危险，请尽快处理",
          ("day", 2, "16:00"), where="儿童游乐场", steps=(
              s(20, "accept"), s(30, "dispatch", to="j.doors"), s(55, "take"))),
    Story("j_corridor", "jinxiu", "corridor_cleaning",
          "楼道里有人堆放纸箱杂物，还有很多烟头，有消防隐患",
          ("day", 6, "11:00"), steps=(
              s(30, "accept"), s(40, "dispatch", to="j.cleaner"), s(60, "take"),
              s(90, "arrive"),
              s(150, "complete", resolution="已清理楼道杂物和烟头，并在单元门口张贴禁止堆放通知"),
              _rate(400, 5, (5, 5, 4, 5, 5), "很干净了"),
              s(1700, "visit", satisfied=True, note="电话回访，业主满意",
                root_cause="environment"))),
    Story("j_glass", "jinxiu", "windows_glass",
          "卧室窗户玻璃裂了一道缝，担心会掉下去",
          ("day", 4, "09:15"), steps=(
              s(20, "accept"),
              s(200, "cancel", by="j.desk",
                reason="业主来电表示已自行联系装修公司更换，取消报修"))),
    Story("j_scratch", "jinxiu", "parking_order",
          "我停在地下车库的车被人划了，要求物业赔偿",
          ("day", 5, "08:10"), where="地下车库",
          complaint=(("party_kind", "other"), ("demand", "赔偿车辆补漆费用"),
                     ("is_dispute", True)),
          steps=(
              s(40, "accept"),
              s(240, "reject",
                reason="经查看监控为第三方所为，已协助业主报警处理；车辆损失不属于物业赔偿范围"))),
    Story("j_oil", "jinxiu", "garbage",
          "地下车库入口有一大滩油污，车开进去容易打滑",
          ("day", 2, "07:45"), where="地下车库", steps=(
              s(60, "accept"), s(70, "dispatch", to="j.cleaner"), s(90, "take"),
              s(600, "urge", note="都大半天了还没人处理"),
              s(1500, "urge", note="又过了一晚上，再不处理要出事了"))),
    # --- 钱江中心大厦 -------------------------------------------------------------------
    Story("q_power", "qianjiang", "power_cut",
          "办公区东侧突然断电，电脑全部关机了，麻烦尽快来看看",
          ("ago", 8), who="phone", steps=(s(2, "dispatch", to="q.tech"),)),
    Story("q_cargo", "qianjiang", "elevator_fault",
          "货梯按键失灵，按了楼层没反应，送货的都在等",
          ("ago", 100), who="staff:q.guard", where="一楼大堂", steps=(
              s(5, "accept"), s(7, "dispatch", to="lift"), s(10, "take"), s(28, "arrive"))),
    Story("q_lights", "qianjiang", "lights_sockets",
          "会议室有两排灯管一直闪，开会很难受",
          ("day", 5, "10:30"), steps=(
              s(15, "accept"), s(20, "dispatch", to="q.tech"), s(30, "take"), s(90, "arrive"),
              s(130, "complete", resolution="更换LED灯管6根及镇流器1个",
                materials=_materials(("LED灯管", "6", "28.00"), ("镇流器", "1", "35.00")),
                labour_amount="60.00"),
              _rate(400, 5, (5, 4, 5, 4, 5), "当天下午就修好了，不耽误开会", ("fixed_well",)))),
    Story("q_umbrella", "qianjiang", "general_suggestion",
          "建议在一楼大堂增设共享充电宝和雨伞架，下雨天很方便",
          ("ago", 600), where="一楼大堂", steps=(s(45, "accept"),)),
    Story("q_thanks", "qianjiang", "general_praise",
          "保安小王帮我们搬了一上午的办公家具，非常热心，特此表扬",
          ("day", 8, "15:00"), steps=(
              s(30, "accept"),
              s(120, "resolve", resolution="已转达表扬，项目部通报表扬并评为本月服务之星"),
              _rate(300, 5, (5, 5, 5, 5, 5)))),
    Story("q_attitude", "qianjiang", "service_attitude",
          "前台客服接电话态度很差，问了两句就不耐烦地挂了",
          ("day", 6, "14:00"),
          complaint=(("party_kind", "staff"), ("party_staff", "q.desk"),
                     ("demand", "希望客服改进态度并道歉")),
          steps=(
              s(30, "accept"),
              s(1200, "resolve", root_cause="attitude",
                resolution="已调取通话录音核实，约谈当班客服并组织服务礼仪培训，已向客户致歉"),
              _rate(1500, 3, (3, 3, 4, 3, 3), "道歉了，希望以后能改进"),
              s(2900, "visit", satisfied=True, note="客服主管回访，客户接受道歉"))),
    Story("q_garage", "qianjiang", "water_leak",
          "地下车库B2顶板渗水，一直滴到车上",
          ("day", 9, "09:00"), where="地下车库", steps=(
              s(12, "accept"), s(20, "dispatch", to="q.tech"), s(28, "take"), s(70, "arrive"),
              s(320, "complete", resolution="渗漏点为消防管道接头，已更换密封件并做防水处理"),
              _rate(500, 3, (3, 4, 4, 3, 4), "修得还行，就是来得有点慢", ("slow",)),
              s(1440, "visit", satisfied=True, note="电话回访：已不再渗水，客户满意"))),
)  # fmt: skip
del s


def story_fits_before(story: Story, now: datetime.datetime) -> bool:
    """Every step of the story happened before ``now``, whatever the time of day."""
    last = max((minutes for minutes, _a, _k in story.steps), default=0)
    if story.when[0] == "ago":
        return last < story.when[1]
    _day, days, clock = story.when
    hours, minutes = map(int, clock.split(":"))
    # It starts ``days`` ago at ``clock`` and must end before today's midnight.
    return hours * 60 + minutes + last < days * 24 * 60


class _WorkOrders:
    def __init__(self, builder: _Builder, staff, communities):
        self.builder = builder
        self.rng = builder.rng
        self.communities = communities
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.members = {}
        for key, (role, community, trade, n) in STAFF_KEYS.items():
            matches = [
                member
                for member, (_u, r, comms, trades, _off) in staff
                if r == role
                and community in {c.code for c in comms}
                and (trade is None or trade in trades)
            ]
            self.members[key] = matches[n]
        self.actors = {key: Actor(m.user) for key, m in self.members.items()}
        self.field_actors = {
            m.pk: a for m, a in zip(self.members.values(), self.actors.values(), strict=True)
        }
        self.categories = {
            c.code: c for c in Category.objects.filter(company_id=communities["cuihu"].company_id)
        }
        self.areas = {
            (a.community_id, a.name): a
            for a in CommonArea.objects.filter(community__in=communities.values())
        }
        self.orders: dict[str, WorkOrder] = {}
        self.reporters: dict[str, Actor] = {}
        self.neighbours = self._neighbours()

    def _neighbours(self):
        """Residents with a login and a settled home or office, per community."""
        settled = self.builder.today - datetime.timedelta(days=30)
        # Ids, not the related objects: saving cleared the ties' cached relations.
        people = {person.pk: person for person in self.builder.residents}
        houses = {house.pk: house for house in self.builder.houses}
        homes, seen = {}, set()
        for tie in self.builder.residencies:
            person, house = people[tie.resident_id], houses[tie.house_id]
            if (
                person.user_id is None
                or person.mobile == RESIDENT_MOBILE
                or tie.move_out is not None
                or (tie.move_in and tie.move_in > settled)
                or house.kind not in (House.Kind.RESIDENCE, House.Kind.OFFICE)
                or person.pk in seen
            ):
                continue
            seen.add(person.pk)
            homes.setdefault(house.community.code, []).append((person, house))
        return homes

    def start(self, story: Story) -> datetime.datetime:
        if story.when[0] == "ago":
            return self.now - datetime.timedelta(minutes=story.when[1])
        _day, days, clock = story.when
        hours, minutes = map(int, clock.split(":"))
        return datetime.datetime.combine(
            self.builder.today - datetime.timedelta(days=days),
            datetime.time(hours, minutes),
            tzinfo=timezone.get_current_timezone(),
        )

    def play(self) -> None:
        timeline = []
        for index, story in enumerate(STORIES):
            if not story_fits_before(story, self.now):
                raise ValueError(f"Demo story {story.key} would end in the future.")
            start = self.start(story)
            timeline.append((start, index, -1, story, "submit", {}))
            for n, (minutes, action, kwargs) in enumerate(story.steps):
                at = start + datetime.timedelta(minutes=minutes)
                timeline.append((at, index, n, story, action, kwargs))
        timeline.sort(key=lambda row: row[:3])
        clock = {"now": self.now}
        # The services read the time from django.utils.timezone.now: hold it at each
        # step's moment. This runs once, inside the loader's transaction, before any
        # server or worker has started. The minute jobs run a second before each step:
        # steps and deadlines fall on whole minutes, and a sweep exactly at a deadline
        # finds the at-risk clock neither breached nor past its next check.
        # Desks and managers do not change meanwhile: resolve them once, and deliver
        # every notice in one task after the load commits.
        with (
            mock.patch.object(timezone, "now", lambda: clock["now"]),
            remembered_audiences(),
            delivered_together(),
        ):
            for at, _index, _n, story, action, kwargs in timeline:
                self.minute_jobs(at - datetime.timedelta(seconds=1))
                clock["now"] = at
                getattr(self, f"do_{action}")(story, **kwargs)
            self.minute_jobs(self.now - datetime.timedelta(seconds=1))

    def minute_jobs(self, now) -> None:
        """The scheduler's minute: the SLA sweep, and the take and rating timeouts
        when an order here has reached one (checked in memory: they rarely have)."""
        sweep_sla(now=now)
        if any(self.timed_out(order, now) for order in self.orders.values()):
            run_timeouts(now=now)
            self.orders = {key: WorkOrder.objects.get(pk=o.pk) for key, o in self.orders.items()}

    @staticmethod
    def timed_out(order, now) -> bool:
        if order.status == Status.DISPATCHED and order.dispatched_at:
            return now - order.dispatched_at >= wo.take_timeout(order.urgency)
        if order.status == Status.COMPLETED and order.completed_at:
            wait = datetime.timedelta(hours=settings.WORKORDER_AUTO_CLOSE_HOURS)
            return now - order.completed_at >= wait
        return False

    # --- who acts ------------------------------------------------------------------
    def desk(self, story) -> Actor:
        desk, complaints = DESKS[story.community]
        is_complaint = self.orders[story.key].request_type == RequestType.COMPLAINT
        return self.actors[complaints if is_complaint else desk]

    def assignee(self, story) -> Actor:
        member = self.orders[story.key].assignee
        if member.pk not in self.field_actors:
            self.field_actors[member.pk] = Actor(member.user)
        return self.field_actors[member.pk]

    def reporter(self, story) -> Actor:
        return self.reporters[story.key]

    # --- the steps ------------------------------------------------------------------
    def do_submit(self, story):
        community = self.communities[story.community]
        if story.who == "me":
            person, house = self.builder.demo_resident, self.builder.demo_home
        elif story.who.startswith("staff:"):
            person, house = None, None
        else:
            homes = self.neighbours[story.community]
            person, house = homes.pop(self.rng.randrange(len(homes)))
        if story.where == "home":
            place = {"house": house}
        elif story.where == "parking":
            place = {"house": self.builder.demo_space}
        else:
            place = {"common_area": self.areas[(community.pk, story.where)]}
        if story.who == "phone":
            actor = self.actors[DESKS[story.community][0]]
            extra = {"channel": Channel.PHONE, "reporter": person.user}
            extra |= {"contact_name": person.name, "contact_mobile": person.mobile}
        elif story.who.startswith("staff:"):
            key = story.who.removeprefix("staff:")
            actor, member = self.actors[key], self.members[key]
            extra = {"channel": Channel.STAFF}
            extra |= {"contact_name": member.name, "contact_mobile": member.mobile}
        else:
            actor, extra = Actor(person.user), {"channel": Channel.RESIDENT_H5}
        if person is not None:
            self.reporters[story.key] = Actor(person.user)
        complaint = dict(story.complaint)
        if "party_staff" in complaint:
            complaint["party_staff"] = self.members[complaint["party_staff"]]
        if complaint:
            extra["complaint"] = complaint
        self.orders[story.key] = wo.submit_order(
            actor=actor,
            category=self.categories[story.category],
            description=story.description,
            preferred_time=story.preferred_time,
            **place,
            **extra,
        )

    def _did(self, story, order) -> None:
        self.orders[story.key] = order

    def do_accept(self, story):
        self._did(story, wo.accept_order(actor=self.desk(story), order=self.orders[story.key]))

    def do_dispatch(self, story, to):
        order, member = self.orders[story.key], self.members[to]
        if order.status == Status.DISPATCHED and order.assignee_id == member.pk:
            return  # accepting it dispatched it to them automatically
        self._did(story, wo.dispatch_order(actor=self.desk(story), order=order, assignee=member))

    def do_grab(self, story, by):
        self._did(story, wo.grab_order(actor=self.actors[by], order=self.orders[story.key]))

    def do_take(self, story):
        self._did(story, wo.take_order(actor=self.assignee(story), order=self.orders[story.key]))

    def do_arrive(self, story):
        self._did(story, wo.arrive(actor=self.assignee(story), order=self.orders[story.key]))

    def do_pause(self, story, reason):
        order = self.orders[story.key]
        self._did(story, wo.pause_order(actor=self.assignee(story), order=order, reason=reason))

    def do_complete(self, story, resolution, materials=(), labour_amount="0"):
        order = wo.complete_order(
            actor=self.assignee(story),
            order=self.orders[story.key],
            resolution=resolution,
            materials=list(materials),
            labour_amount=labour_amount,
        )
        self._did(story, order)

    def do_resolve(self, story, resolution, root_cause=""):
        order = wo.resolve_order(
            actor=self.desk(story),
            order=self.orders[story.key],
            resolution=resolution,
            root_cause=root_cause,
        )
        self._did(story, order)

    def do_rate(self, story, overall, comment="", reasons=(), **dimensions):
        order = wo.rate_order(
            actor=self.reporter(story),
            order=self.orders[story.key],
            overall=overall,
            comment=comment,
            reasons=list(reasons),
            **dimensions,
        )
        self._did(story, order)

    def do_visit(self, story, satisfied, note, root_cause="", root_cause_note=""):
        order = wo.return_visit(
            actor=self.desk(story),
            order=self.orders[story.key],
            satisfied=satisfied,
            note=note,
            root_cause=root_cause,
            root_cause_note=root_cause_note,
        )
        self._did(story, order)

    def do_urge(self, story, note):
        order = self.orders[story.key]
        self._did(story, wo.urge_order(actor=self.reporter(story), order=order, note=note))

    def do_reopen(self, story, reason):
        order = self.orders[story.key]
        self._did(story, wo.reopen_order(actor=self.reporter(story), order=order, reason=reason))

    def do_cancel(self, story, reason, by=None):
        actor = self.actors[by] if by else self.reporter(story)
        order = wo.cancel_order(actor=actor, order=self.orders[story.key], reason=reason)
        self._did(story, order)

    def do_reject(self, story, reason, duplicate_of=None):
        order = wo.reject_order(
            actor=self.desk(story),
            order=self.orders[story.key],
            reason=reason,
            duplicate_of=self.orders[duplicate_of] if duplicate_of else None,
        )
        self._did(story, order)
