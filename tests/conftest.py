"""The fixed cast of test actors, shared by every test module.

Company A (``acme``) has communities X and Y; X has building 1 with unit 1 and
houses 101 and 102, Y has one building and house 201. Residents A and B live in
the same building of X (A in 101, B in 102). Company B (``other``) has its own
community, house and resident. Staff: one member per default role in community X,
plus a technician and a manager in community Y, and an admin for company B.
"""

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client

from wuye.accounts.actor import Actor
from wuye.accounts.models import User
from wuye.estates.models import Building, CommonArea, Community, House, Unit
from wuye.estates.services import create_company
from wuye.people.models import Residency, Resident
from wuye.staff.models import Role, StaffMember
from wuye.staff.policy import DEFAULT_ROLES

PASSWORD = "test-pass-123"


@dataclasses.dataclass
class Cast:
    company: object
    other_company: object
    community_x: Community
    community_y: Community
    other_community: Community
    building_x1: Building
    unit_x1: Unit
    house_a: House
    house_b: House
    house_y: House
    other_house: House
    resident_a: Resident
    resident_b: Resident
    other_resident: Resident
    users: dict  # name -> User
    staff: dict  # name -> StaffMember

    def actor(self, name: str) -> Actor:
        return Actor(self.users[name])

    def client(self, name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(self.users[name])
        return client


def make_user(username: str, mobile: str | None = None, name: str = "") -> User:
    user = User(username=username, mobile=mobile, first_name=name or username)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_staff(company, username, role_codes, communities, name=None) -> StaffMember:
    user = make_user(username, name=name or username)
    member = StaffMember.objects.create(
        company=company, user=user, employee_no=username, name=name or username
    )
    member.roles.set(Role.objects.filter(company=company, code__in=role_codes))
    member.communities.set(communities)
    return member


def make_staff_in_bulk(rows) -> dict:
    """``make_staff`` for many (company, username, role code, community) rows with a
    handful of bulk inserts: the cast is built before nearly every test."""
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [User(username=name, first_name=name, password=password) for _c, name, _r, _x in rows]
    )
    members = StaffMember.objects.bulk_create(
        [
            StaffMember(company=company, user=user, employee_no=name, name=name)
            for (company, name, _r, _x), user in zip(rows, users, strict=True)
        ]
    )
    roles = {
        (role.company_id, role.code): role.pk
        for role in Role.objects.filter(company__in={company for company, *_ in rows})
    }
    StaffMember.roles.through.objects.bulk_create(
        StaffMember.roles.through(staffmember_id=member.pk, role_id=roles[company.pk, code])
        for (company, _n, code, _x), member in zip(rows, members, strict=True)
    )
    StaffMember.communities.through.objects.bulk_create(
        StaffMember.communities.through(staffmember_id=member.pk, community_id=community.pk)
        for (_c, _n, _r, community), member in zip(rows, members, strict=True)
    )
    return {name: member for (_c, name, _r, _x), member in zip(rows, members, strict=True)}


def make_estate(company, code, name):
    community = Community.objects.create(company=company, name=name, code=code)
    building = Building.objects.create(community=community, name="1栋", floors_above=18)
    unit = Unit.objects.create(building=building, name="1单元")
    CommonArea.objects.create(community=community, name=f"{name}大堂", kind="lobby")
    return community, building, unit


def make_house(building, unit, number, floor=1, area="89.50"):
    return House.objects.create(
        company_id=building.community.company_id,
        community=building.community,
        building=building,
        unit=unit,
        number=number,
        floor=floor,
        built_area=Decimal(area),
        indoor_area=Decimal(area) - Decimal("10"),
        occupancy=House.Occupancy.OWNER_OCCUPIED,
    )


def make_resident(company, house, name, mobile, relation="owner"):
    user = make_user(mobile, mobile=mobile, name=name)
    resident = Resident.objects.create(
        company=company, user=user, name=name, mobile=mobile, id_number="110101199001011234"
    )
    Residency.objects.create(
        resident=resident,
        house=house,
        relation=relation,
        move_in=datetime.date(2024, 1, 1),
    )
    return resident


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


def build_cast() -> Cast:
    """The cast's rows (the ``cast`` fixture; a module may build it once with its own
    transaction, see tests/test_api_fuzz.py)."""
    company = create_company(name="安居物业", code="acme")
    other = create_company(name="他山物业", code="other")
    x, bx, ux = make_estate(company, "x", "翠湖花园")
    y, by, uy = make_estate(company, "y", "锦绣苑")
    o, bo, uo = make_estate(other, "o", "他山小区")
    house_a = make_house(bx, ux, "0101", floor=1)
    house_b = make_house(bx, ux, "0102", floor=1)
    house_y = make_house(by, uy, "0101")
    other_house = make_house(bo, uo, "0101")
    resident_a = make_resident(company, house_a, "张伟", "13800000001")
    resident_b = make_resident(company, house_b, "李娜", "13800000002")
    other_resident = make_resident(other, other_house, "王芳", "13900000009")

    staff = make_staff_in_bulk(
        [
            *((company, code, code, x) for code in DEFAULT_ROLES),
            (company, "technician_y", "technician", y),
            (company, "manager_y", "project_manager", y),
            (other, "other_admin", "company_admin", o),
        ]
    )

    users = {name: member.user for name, member in staff.items()}
    users["resident_a"] = resident_a.user
    users["resident_b"] = resident_b.user
    users["other_resident"] = other_resident.user
    users["nobody"] = make_user("nobody")  # signed in, neither staff nor resident

    return Cast(
        company=company,
        other_company=other,
        community_x=x,
        community_y=y,
        other_community=o,
        building_x1=bx,
        unit_x1=ux,
        house_a=house_a,
        house_b=house_b,
        house_y=house_y,
        other_house=other_house,
        resident_a=resident_a,
        resident_b=resident_b,
        other_resident=other_resident,
        users=users,
        staff=staff,
    )


# CI runs the suite twice, on SQLite (the README's command) and on PostgreSQL. A test
# whose outcome cannot depend on the engine — a subprocess with its own SQLite file,
# the templates, the query counts the ORM makes — runs in the SQLite phase only.
engine_independent = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="engine-independent: runs in the SQLite phase"
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_looked_up_per_request(settings):
    """Every test client builds its own middleware, and WhiteNoise (with finders) would
    list and stat every static file each time: a fifth of the access matrix's time.
    Looked up per request instead, the same files are served."""
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    """Tests run background tasks inline; the worker is exercised by its own test."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _no_submit_limits(settings):
    """Tests submit many requests for one resident in a frozen hour; the limits have
    their own tests (tests/test_rate_limits.py)."""
    settings.WORKORDER_SUBMIT_PER_HOUR = 0
    settings.WORKORDER_SUBMIT_PER_DAY = 0


@pytest.fixture(autouse=True)
def _reports_on_the_primary(settings):
    """Tests read reports where they wrote the rows; the replica has its own test."""
    settings.REPORTS_DATABASE = "default"
