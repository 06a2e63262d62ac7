"""Query-count guards on every list: more rows on a page cost no more queries.

Every GET operation of the API that returns a list, and every console (``/console/``),
phone (``/m/``) and resident (``/h5/``) page that shows rows, is requested twice over the
demo dataset by someone who may see the rows, and both requests must take exactly as
many queries while the second shows more rows (counted in the JSON or the HTML, so the
check cannot pass on an empty list). A query per row (N+1) shows up as a difference.
The two requests differ in one of three ways:

- the page size (most lists): the API's ``page_size`` (2, then 6), or for pages, which
  have no such parameter, the module constant or keyword default that cuts them, set by
  ``page_size()`` for the duration of the request (``KEYSET_HELPERS`` and each case's
  ``knobs``);
- the object (``big``): the same page for an object with more rows (a bigger batch);
- more rows (``grow``): lists with no pages get rows added between the two requests.

Each request runs once unmeasured first (per-process caches, once-a-minute stamps).
The demo leaves some lists short of two pages: ``supplement()`` adds rows, mostly
copies of demo rows. The lists are discovered from the OpenAPI schema and the URL
resolver: one that is neither guarded nor excluded with a reason fails
``test_every_api_list_is_guarded_or_excluded`` / ``test_every_page_is_guarded_or_excluded``.
A known N+1 is an ``n_plus_one`` case: xfail (strict) until it is fixed.
"""

import dataclasses
import datetime
import importlib
import inspect
import re
import uuid
from contextlib import contextmanager
from decimal import Decimal

import pytest
from api_helpers import API, bearer_client
from conftest import engine_independent, make_estate, make_house, make_staff_in_bulk
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from wuye import demo
from wuye.accounts.actor import Actor
from wuye.accounts.models import User
from wuye.accounts.services import create_api_token
from wuye.activities.models import Activity, Signup
from wuye.api import api as ninja_api
from wuye.billing import dunning
from wuye.billing import services as billing
from wuye.billing.models import Bill, Disclosure, DiscountRule, FeeItem, Payment, Refund, Waiver
from wuye.billing.money import add_months
from wuye.estates.models import Building, Community, Company, House
from wuye.estates.services import create_company
from wuye.facilities.models import Answer, Asset, Task
from wuye.imports.models import ImportJob
from wuye.incidents import services as incidents
from wuye.notices.models import Notice, NoticeReceipt
from wuye.notifications.models import Delivery, MessageTemplate, Notification
from wuye.people.models import Residency, Resident
from wuye.privacy.models import DeletionRequest
from wuye.quality.models import (
    Attendance,
    ConductItem,
    Course,
    MonthlyReport,
    QuizAttempt,
    SpotCheck,
    TrainingSession,
)
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember
from wuye.surveys.models import Survey
from wuye.webhooks import services as webhooks
from wuye.webhooks.events import EVENT_TYPES
from wuye.webhooks.models import Endpoint, WebhookDelivery
from wuye.workorders import selectors
from wuye.workorders.models import ASSIGNED_STATUSES, Category, WorkOrder, WorkOrderEvent

pytestmark = [
    pytest.mark.django_db,
    # The count of queries is the ORM's, the same on either engine; the demo load this
    # module needs costs minutes per CI worker, so only the SQLite phase pays it.
    engine_independent,
]


# --- the data ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def _demo_once(django_db_setup, django_db_blocker):
    """The demo dataset, loaded once for the module in a transaction rolled back at the
    end (as in test_demo), plus rows for the lists the demo leaves short."""
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        assert demo.load() is True
        yield supplement()
        transaction.set_rollback(True)


@pytest.fixture
def data(_demo_once, db):
    return _demo_once


def clone(row, count: int, **vary) -> list:
    """``count`` copies of a demo row under new ids; ``vary`` maps a field to a function
    of the copy's number (for unique fields, or to point the copy elsewhere)."""
    copies = []
    for n in range(count):
        copy = type(row).objects.get(pk=row.pk)
        copy.pk = None
        copy._state.adding = True
        for field, value in vary.items():
            setattr(copy, field, value(n))
        copies.append(copy)
    return type(row).objects.bulk_create(copies)


def supplement() -> dict:
    """Rows for the lists the demo leaves short of two pages (copies of demo rows where
    there are some, rows written by the services where there are none), and the ids and
    logins the cases need."""
    today = timezone.localdate()
    anju = Company.objects.get(code=demo.COMPANY["code"])
    cuihu = Community.objects.get(code="cuihu")
    admin, finance = user("admin"), user("finance")
    resident = user(demo.RESIDENT_MOBILE)
    found = {}

    # Activities, full ones: the printed resident's household waits on each of them.
    activity = Activity.objects.filter(status="open").annotate(n=Count("signups")).latest("n", "id")
    found["activity_id"] = activity.pk
    ticket = Signup.objects.filter(user=resident, activity=activity).latest("id")
    copies = clone(activity, 6, checkin_token=lambda n: f"qc-checkin-{n}")
    clone(
        ticket,
        6,
        activity=lambda n: copies[n],
        code=lambda n: f"qc-ticket-{n}",
        status=lambda n: "waitlisted",
    )

    # Billing: disclosures, discount rules, waivers, refunds and two reminder batches.
    clone(Disclosure.objects.filter(company=anju, state="published").latest("id"), 6)
    clone(DiscountRule.objects.filter(company=anju).latest("id"), 4)
    clone(Waiver.objects.filter(company=anju).latest("id"), 6)
    Refund.objects.bulk_create(
        Refund(
            company_id=payment.company_id,
            community_id=payment.community_id,
            payment=payment,
            amount=Decimal("1.00"),
            reason="qc",
            requested_by=finance,
        )
        for payment in Payment.objects.filter(company=anju).order_by("id")[:8]
    )
    owing = [row["house_id"] for row in dunning.dunning_houses(Actor(finance), as_of=today)[:8]]
    small = dunning.send_reminders(actor=Actor(finance), house_ids=owing[:2], channel="letter")
    big = dunning.send_reminders(actor=Actor(finance), house_ids=owing[2:], channel="letter")
    found["small_batch"], found["big_batch"] = small.batch, big.batch

    # The printed resident also lives with two more companies (the company list).
    fenglin = House.objects.filter(community__code="fenglin").earliest("id")
    other = create_company(name="查询物业", code="qc")
    _community, building, unit = make_estate(other, "qc", "查询小区")
    for house in (fenglin, make_house(building, unit, "0101")):
        person = Resident.objects.create(
            company_id=house.company_id, user=resident, name="演示业主", mobile=resident.mobile
        )
        Residency.objects.create(resident=person, house=house, relation="owner", move_in=today)

    # Incidents, staff notifications' deliveries, API tokens, webhooks, import jobs.
    dispatcher = Actor(user("dispatcher"))
    for n in range(8):
        incidents.report_incident(
            actor=dispatcher,
            community=cuihu,
            kind="leak",
            description=f"qc {n}",
            tell_residents=False,
        )
    notification = Notification.objects.latest("id")
    mine = clone(notification, 8, recipient=lambda n: admin, dedupe_key=lambda n: f"qc-{n}")
    Delivery.objects.bulk_create(
        Delivery(notification=row, channel="sms", address="13800000000", status="sent")
        for row in mine
    )
    for n in range(8):
        create_api_token(actor=Actor(admin), name=f"qc {n}")
        webhooks.create_endpoint(
            actor=Actor(admin), url=f"https://hooks.example.com/{n}", event_types=list(EVENT_TYPES)
        )
    endpoint = Endpoint.objects.earliest("id")
    found["endpoint_id"] = endpoint.pk
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint, event_id=uuid.uuid4(), event_type="workorder.created", payload={}
        )
        for _n in range(8)
    )
    ImportJob.objects.bulk_create(
        ImportJob(
            company=anju,
            community=cuihu,
            actor=admin,
            file="imports/qc.xlsx",
            original_name=f"qc{n}.xlsx",
        )
        for n in range(8)
    )

    # Notices that reached the printed resident's home.
    notice = Notice.objects.filter(status="published", audience="community").latest("id")
    receipt = NoticeReceipt.objects.filter(
        notice=notice, house_id__in=Actor(resident).resident_house_ids
    ).latest("id")
    copies = clone(notice, 6)
    clone(receipt, 6, notice=lambda n: copies[n])
    found["notice_id"] = (
        NoticeReceipt.objects.values("notice").annotate(n=Count("id")).latest("n")["notice"]
    )

    # Surveys open to the printed resident.
    clone(Survey.objects.filter(status="open", audience="community").latest("id"), 6)

    # Quality: monthly reports, spot checks, courses, sessions, quiz attempts.
    report = MonthlyReport.objects.filter(company=anju).latest("id")
    clone(report, 6, month=lambda n: add_months(report.month, -1 - n))
    check = SpotCheck.objects.filter(company=anju).latest("id")
    clone(check, 6)
    found["inspected"] = check.subject.user.username
    course = Course.objects.filter(company=anju).latest("id")
    clone(course, 6, code=lambda n: f"qc-{n}")
    clone(TrainingSession.objects.filter(company=anju).latest("id"), 6)
    attempt = QuizAttempt.objects.filter(company=anju).latest("id")
    clone(attempt, 6)
    found["trainee"] = attempt.staff.user.username

    # Privacy: deletion requests already decided (the demo has two).
    clone(DeletionRequest.objects.filter(company=anju).latest("id"), 6, state=lambda n: "rejected")

    # Adjustments: one on a bill, three on another.
    first, second = Bill.objects.filter(community=cuihu, status="open").order_by("id")[:2]
    for bill, count in ((first, 1), (second, 3)):
        for n in range(count):
            billing.propose_adjustment(
                actor=Actor(finance),
                bill=bill,
                kind="credit",
                amount=Decimal("1.00"),
                reason=f"qc {n}",
            )
    found["bill_id"], found["bill_with_more"] = first.pk, second.pk
    found.update(Community.objects.filter(company=anju).values_list("code", "id"))

    # The biggest of each for the pages of one object's rows.
    houses = House.objects.filter(community=cuihu).values("unit").annotate(n=Count("id"))
    found["unit"] = houses.filter(unit__isnull=False).latest("n", "unit")["unit"]
    loose = House.objects.filter(community=cuihu, unit=None).values("building")
    found["building"] = loose.annotate(n=Count("id")).latest("n", "building")["building"]
    assets = Asset.objects.filter(company=anju, vendor__isnull=False).values("vendor")
    found["vendor"] = assets.annotate(n=Count("id")).latest("n", "vendor")["vendor"]
    found["course"] = course.pk
    found["session"] = (
        Attendance.objects.values("session").annotate(n=Count("id")).latest("n")["session"]
    )
    found["unit_building"] = House.objects.filter(unit=found["unit"]).first().building_id
    found["home"] = (
        Bill.objects.filter(house_id__in=Actor(resident).resident_house_ids, status="open")
        .values_list("house_id", flat=True)
        .first()
    )

    # Work orders: more of the technician's tasks, of the grab pool, of the return visits
    # and of the printed resident's requests (seven each: more than a big page). Then, on
    # top of the board and of the printed resident's list (the most urgent, the newest):
    # an unassigned order on a house, one on a common area and one on an asset. The
    # smallest page then already holds every kind of row: each kind's related rows are
    # fetched in one query, only when the page has a row of that kind.
    orders = WorkOrder.objects.filter(community=cuihu)
    events = WorkOrderEvent.objects.filter(order__community=cuihu).values("order")
    found["order_id"] = events.annotate(n=Count("id")).latest("n", "order")["order"]
    tech = user("tech")
    mine = orders.filter(assignee__user=tech, status__in=ASSIGNED_STATUSES)
    clone(mine.latest("id"), 7, number=lambda n: f"QC-TASK-{n}")
    pool = selectors.in_grab_pool(Actor(tech), orders)
    clone(pool.latest("id"), 7, number=lambda n: f"QC-POOL-{n}")
    visits = selectors.awaiting_return_visit(orders).exclude(request_type="complaint")
    clone(visits.latest("id"), 7, number=lambda n: f"QC-VISIT-{n}")
    requests = orders.filter(reporter=resident)
    clone(requests.latest("id"), 7, number=lambda n: f"QC-MINE-{n}")
    kinds = [
        orders.filter(house__isnull=False, reporter=resident).latest("id"),
        orders.filter(common_area__isnull=False, asset=None).latest("id"),
        orders.filter(asset__isnull=False).latest("id"),
    ]
    for n, order in enumerate(kinds):
        clone(
            order,
            1,
            number=lambda _n, n=n: f"QC-TOP-{n}",
            reporter=lambda _n: resident,
            status=lambda _n: "submitted",
            assignee=lambda _n: None,
            urgency=lambda _n: "emergency",
            priority=lambda _n: 999,
        )

    # Rounds: the latest answer at a checkpoint and the latest at an asset are abnormal,
    # so the newest anomalies are of both kinds. The guard left seven rounds open long
    # ago: the phone's today page lists them with today's.
    for stop in ("visit__stop__checkpoint__isnull", "visit__stop__asset__isnull"):
        answer = Answer.objects.filter(visit__task__company=anju, **{stop: False}).latest(
            "visit__scanned_at", "id"
        )
        Answer.objects.filter(pk=answer.pk).update(is_abnormal=True)
    guard = StaffMember.objects.get(user__username="guard")
    task = Task.objects.filter(assignee=guard).latest("id")
    long_ago = today - datetime.timedelta(days=400)  # before the demo's history
    clone(
        task,
        7,
        date=lambda n: long_ago - datetime.timedelta(days=n),
        status=lambda n: "pending",
    )

    # Staff: more shifts. Notifications: two message templates.
    MessageTemplate.objects.bulk_create(
        MessageTemplate(company=anju, kind="qc", channel=channel, language="zh-hans", body="qc")
        for channel in ("sms", "email")
    )
    shift = Shift.objects.filter(company=anju).latest("id")
    clone(shift, 4, name=lambda n: f"qc 班 {n}")
    return found


# --- measuring --------------------------------------------------------------------------
# The page-size knobs of the console's keyset helpers (their ``size`` keyword default);
# a case names any other constant its page is cut by.
KEYSET_HELPERS = ("wuye.core.console.keyset_page", "wuye.core.console.newest_first_page")
TBODY = "tbody"  # count the <tr> rows inside the page's table bodies


@dataclasses.dataclass(frozen=True)
class Case:
    """One list: an API path as in the schema (``/work-orders``) or a page's URL name.

    The two requests differ in one way: by default the page size (``sizes``: the API's
    ``size_param``, or for pages the knobs lowered by ``page_size()``); with ``big`` the
    bigger request names other objects (a map of placeholder to ``data`` key); with
    ``grow`` more rows are written between the two requests (lists that have no pages).
    """

    target: str
    login: str = "admin"
    args: tuple = ()  # the page's URL arguments, as keys of ``data``
    params: tuple = ()  # query parameters, (name, value); "{key}" values come from ``data``
    sizes: tuple = (2, 6)
    size_param: str | None = "page_size"  # API only; None: the knobs size the page
    knobs: tuple = ()  # more page-size constants ("module.NAME")
    big: dict = dataclasses.field(default_factory=dict)
    grow: object = None  # a function of ``data`` that adds rows to the list
    rows: str = ""  # API: the key of the rows ("" for "results"); pages: a regex or TBODY
    n_plus_one: str = ""  # a known N+1 (xfail until fixed): what grows per row

    @property
    def is_api(self) -> bool:
        return self.target.startswith("/")

    @property
    def mode(self) -> str:
        return "grow" if self.grow else "objects" if self.big else "size"


def user(login: str) -> User:
    return User.objects.get(username=login)


@contextmanager
def page_size(size: int | None, knobs=()):
    """Cut pages at ``size`` rows: module constants are set, and the ``size`` keyword
    default of helper functions. ``None``: leave everything as it is."""
    saved = []
    try:
        for path in knobs if size is not None else ():
            path, _colon, keyword = path.partition(":")
            module_name, name = path.rsplit(".", 1)
            module = importlib.import_module(module_name)
            target = getattr(module, name)
            if inspect.isfunction(target):
                keyword = keyword or "size"
                saved.append((target.__kwdefaults__, keyword, target.__kwdefaults__[keyword]))
                target.__kwdefaults__[keyword] = size
            else:
                assert isinstance(target, int), path
                saved.append((module.__dict__, name, target))
                setattr(module, name, size)
        yield
    finally:
        for mapping, key, value in reversed(saved):
            mapping[key] = value


def count_rows(case: Case, response) -> int:
    if case.is_api:
        body = response.json()
        return len(body if isinstance(body, list) else body[case.rows or "results"])
    html = response.content.decode()
    if case.rows in ("", TBODY):
        bodies = re.findall(r"<tbody\b.*?</tbody>", html, flags=re.S)
        return sum(len(re.findall(r"<tr\b", body)) for body in bodies)
    return len(re.findall(case.rows, html))


def one_request(case: Case, client: Client, data: dict, *, size: int | None, big: bool):
    """(queries, rows, response) of one request; the same request runs once before,
    unmeasured, so that per-process caches and once-a-minute stamps are warm."""
    names = {**data, **{key: data[other] for key, other in case.big.items()}} if big else data
    params = {name: str(value).format(**names) for name, value in case.params}
    if case.is_api:
        url = API + case.target.format(**names)
        if size is not None and case.size_param:
            params[case.size_param] = size
        knobs = () if case.size_param else case.knobs
    else:
        url = reverse(case.target, args=[names[key] for key in case.args])
        knobs = (*KEYSET_HELPERS, *case.knobs)
    with page_size(size, knobs):
        client.get(url, params)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code, response.content[:300])
    return len(captured), count_rows(case, response), response


def client_for(case: Case, data: dict) -> Client:
    who = user(case.login.format(**data))
    if case.is_api:
        return bearer_client(who)
    client = Client()
    client.force_login(who)
    return client


def measure(case: Case, data: dict) -> dict:
    client = client_for(case, data)
    small_size, big_size = case.sizes if case.mode == "size" else (None, None)
    small = one_request(case, client, data, size=small_size, big=False)
    if case.grow:
        case.grow(data)
    big = one_request(case, client, data, size=big_size, big=True)
    return {
        "queries": (small[0], big[0]),
        "rows": (small[1], big[1]),
        "responses": (small[2], big[2]),
    }


# --- more rows, for the lists that have no pages ------------------------------------------
def more_categories(data):
    top = Category.objects.filter(company__code="anju", parent=None, is_active=True).earliest("id")
    clone(top, 4, code=lambda n: f"qc-{n}")


def more_communities(data):
    clone(
        Community.objects.get(code="cuihu"), 4, code=lambda n: f"qc-{n}", name=lambda n: f"查询 {n}"
    )


def more_duty(data):
    entry = RosterEntry.objects.filter(staff__user__username="guard").latest("id")
    shift = Shift.objects.filter(company__code="anju", name__startswith="qc").earliest("id")
    today = timezone.localdate()
    clone(entry, 4, shift=lambda n: shift, date=lambda n: today + datetime.timedelta(days=n))


def more_communities_for_tech(data):
    more_communities(data)
    tech = StaffMember.objects.get(user__username="tech")
    tech.communities.add(*Community.objects.filter(code__startswith="qc-"))


def more_attendees(data):
    session = TrainingSession.objects.get(pk=data["session"])
    present = Attendance.objects.filter(session=session).values("staff")
    staff = StaffMember.objects.filter(company=session.company).exclude(pk__in=present)[:6]
    Attendance.objects.bulk_create(Attendance(session=session, staff=member) for member in staff)


def more_buildings(data):
    building = Building.objects.filter(community__code="cuihu").earliest("id")
    clone(building, 4, name=lambda n: f"查询 {n} 栋")


def more_roles(data):
    clone(Role.objects.filter(company__code="anju").earliest("id"), 4, code=lambda n: f"qc-{n}")


def more_shifts(data):
    clone(Shift.objects.filter(company__code="anju").earliest("id"), 4, name=lambda n: f"查询 {n}")


def more_staff(data):
    anju, cuihu = Company.objects.get(code="anju"), Community.objects.get(code="cuihu")
    make_staff_in_bulk([(anju, f"qc-staff-{n}", "guard", cuihu) for n in range(6)])


def more_templates(data):
    anju = Company.objects.get(code="anju")
    MessageTemplate.objects.bulk_create(
        MessageTemplate(company=anju, kind=kind, channel=channel, language="zh-hans", body="qc")
        for kind in ("qc.a", "qc.b")
        for channel in ("sms", "email")
    )


def more_fee_items(data):
    clone(
        FeeItem.objects.filter(community__code="cuihu").earliest("id"), 4, code=lambda n: f"qc-{n}"
    )


def more_rules(data):
    clone(DiscountRule.objects.earliest("id"), 4)


def more_bills(data):
    bill = Bill.objects.filter(house_id=data["home"], status="open").earliest("id")
    clone(bill, 4, origin=lambda n: "one_off", reference=lambda n: "")


def more_disclosures(data):
    clone(Disclosure.objects.filter(state="published").earliest("id"), 4)


def more_activities(data):
    clone(
        Activity.objects.filter(status="open").latest("id"),
        4,
        checkin_token=lambda n: f"qc-more-{n}",
    )


def more_endpoints(data):
    clone(Endpoint.objects.earliest("id"), 4)


def more_conduct_items(data):
    clone(ConductItem.objects.filter(company__code="anju").earliest("id"), 4)


def more_courses(data):
    course = Course.objects.filter(company__code="anju").earliest("id")
    clone(course, 4, code=lambda n: f"qc-more-{n}")


# --- API list operations ----------------------------------------------------------------
def api(path, **options) -> Case:
    return Case(path, **options)


API_CASES = [
    api("/activities"),
    api("/activities/signups/mine", login=demo.RESIDENT_MOBILE),
    api("/activities/{activity_id}/participants"),
    api("/billing/bills", login="finance"),
    api(
        "/billing/bills/{bill_id}/adjustments",
        login="finance",
        big={"bill_id": "bill_with_more"},
    ),
    api("/billing/disclosures", login="finance"),
    api("/billing/discount-rules", login="finance"),
    api(
        "/billing/dunning",
        login="finance",
        size_param=None,
        knobs=("wuye.billing.dunning.page_of",),
        rows="items",
    ),
    api("/billing/dunning/notices", login="finance"),
    api("/billing/fee-items", login="finance"),
    api("/billing/payments", login="finance"),
    api("/billing/refunds", login="finance"),
    api("/billing/runs", login="finance"),
    api("/billing/waivers", login="finance"),
    api("/buildings"),
    api("/common-areas"),
    api("/communities", sizes=(1, 2)),
    api("/companies", login=demo.RESIDENT_MOBILE, sizes=(1, 2)),
    api("/facilities/assets"),
    api("/facilities/certificates"),
    api("/facilities/plans"),
    api("/facilities/tasks"),
    api("/houses", login="dispatcher"),
    api("/incidents", login="dispatcher"),
    api("/notices"),
    api("/notices/{notice_id}/receipts"),
    api("/notifications"),
    api("/notifications/deliveries"),
    api("/quality/care", login="quality", params=(("threshold", 1),)),
    api("/quality/complaints", login="quality", size_param="rows", rows="repeat_houses"),
    api("/quality/conduct-items", login="quality"),
    api("/quality/reports", login="quality"),
    api(
        "/quality/scorecard",
        login="quality",
        params=(("community", "{qianjiang}"),),
        big={"qianjiang": "cuihu"},
    ),
    api("/quality/spot-checks", login="quality"),
    api("/quality/training/attempts/mine", login="{trainee}"),
    api("/quality/training/courses", login="quality"),
    api("/quality/training/sessions", login="quality"),
    api("/privacy/access-logs"),
    api("/privacy/deletion-requests"),
    api("/request-categories", grow=more_categories),
    api("/residencies"),
    api("/resident/notices", login=demo.RESIDENT_MOBILE),
    api("/residents"),
    api("/roles"),
    api("/roster"),
    api("/shifts"),
    api("/staff"),
    api("/surveys"),
    api("/tokens"),
    api("/trades"),
    api("/units"),
    api("/webhooks/deliveries"),
    api("/webhooks/endpoints"),
    api("/work-orders", login="dispatcher"),
    api("/work-orders/{order_id}/events", login="dispatcher"),
]


# --- pages ------------------------------------------------------------------------------
def page(name, **options) -> Case:
    return Case(name, size_param=None, **options)


RESIDENT = demo.RESIDENT_MOBILE
LI = r"<li\b"
ORDER_ITEM = r'class="order-item'


PAGE_CASES = [
    page("accounts:tokens"),
    page("estates:tree", grow=more_communities, rows=r'<li role="treeitem"'),
    page("estates:tree_community", args=("cuihu",), grow=more_buildings, rows=LI),
    page(
        "estates:tree_building",
        args=("building",),
        knobs=("wuye.estates.views.TREE_HOUSE_LIMIT",),
        rows=LI,
    ),
    page(
        "estates:tree_unit", args=("unit",), knobs=("wuye.estates.views.TREE_HOUSE_LIMIT",), rows=LI
    ),
    page("estates:house_list"),
    page("estates:commonarea_list"),
    page("people:resident_list"),
    page("staff:member_list"),
    page("staff:role_list", grow=more_roles),
    page("staff:shift_list", grow=more_shifts),
    page("staff:roster", grow=more_staff),
    page("imports:job_list", knobs=("wuye.imports.views.PAGE_SIZE",)),
    page(
        "notifications:list",
        knobs=("wuye.notifications.views.PAGE_SIZE",),
        rows=r'<li class="notification',
    ),
    page("notifications:delivery_log"),
    page("notifications:template_list", grow=more_templates),
    page(
        "orders_console:board",
        login="dispatcher",
        knobs=("wuye.workorders.views_console.BOARD_PAGE_SIZE",),
    ),
    page("orders_console:return_visits", login="dispatcher"),
    page(
        "orders_resident:my_orders",
        login=RESIDENT,
        sizes=(3, 9),
        knobs=("wuye.workorders.views_resident.PAGE_SIZE",),
        rows=ORDER_ITEM,
    ),
    page(
        "orders_field:tasks",
        login="tech",
        knobs=("wuye.workorders.views_field.LIST_SIZE",),
        rows=ORDER_ITEM,
    ),
    page(
        "orders_field:pool",
        login="tech",
        knobs=("wuye.workorders.views_field.LIST_SIZE",),
        rows=ORDER_ITEM,
    ),
    page("ledger:asset_list"),
    page("ledger:vendor_list", sizes=(1, 3)),
    page("ledger:vendor_detail", args=("vendor",)),
    page("ledger:certificate_list", knobs=("wuye.facilities.views_ledger._certificate_page",)),
    page("rounds:task_board", knobs=("wuye.facilities.views_rounds.BOARD_PAGE_SIZE",)),
    page("rounds:plan_list"),
    page("rounds:template_list"),
    page("rounds:checkpoint_list"),
    page("facility_reports:completion", knobs=("wuye.facilities.views_reports.SHOWN_ROWS",)),
    page("facility_reports:anomalies", knobs=("wuye.facilities.views_reports.SHOWN_ROWS",)),
    page("facility_reports:overdue", knobs=("wuye.facilities.views_reports.SHOWN_ROWS",)),
    page("facility_reports:assets", knobs=("wuye.facilities.views_reports.SHOWN_ROWS",)),
    page(
        "rounds_field:today",
        login="guard",
        knobs=("wuye.facilities.views_field.TASKS_SHOWN",),
        rows=r'class="m-card round-task"',
    ),
    page(
        "meters_field:community",
        login="tech",
        args=("cuihu",),
        grow=more_buildings,
        rows=r'href="/m/meters/buildings/\d+/"',
    ),
    page(
        "meters_field:unit",
        login="tech",
        args=("unit",),
        knobs=("wuye.billing.views_field.HOUSES_SHOWN",),
        rows=r'class="m-card house-card"',
    ),
    page("incidents:list", login="dispatcher", knobs=("wuye.incidents.views.PAGE_SIZE",)),
    page("billing:fee_item_list", login="finance", grow=more_fee_items),
    page("billing:run_list", login="finance"),
    page("billing:bill_list", login="finance"),
    page("billing:reading_list", login="finance"),
    page("billing:disclosure_list", login="finance"),
    page("billing:dunning", login="finance", knobs=("wuye.billing.dunning.page_of",)),
    page(
        "billing:dunning_batch",
        login="finance",
        args=("small_batch",),
        big={"small_batch": "big_batch"},
    ),
    page("billing:waiver_list", login="finance"),
    page("billing:rule_list", login="finance", grow=more_rules),
    page(
        "cashier:search",
        login="finance",
        params=(("building", "{unit_building}"),),
        knobs=("wuye.billing.views_cashier.MAX_HOUSES", "wuye.billing.forms_cashier.MAX_HOUSES"),
    ),
    page("cashier:payments", login="finance"),
    page("cashier:refunds", login="finance"),
    page("billing_resident:bill_list", login=RESIDENT, grow=more_bills, rows=LI),
    page(
        "billing_resident:pay",
        login=RESIDENT,
        params=(("house", "{home}"),),
        grow=more_bills,
        rows=r'name="bills"',
    ),
    page("billing_resident:disclosure_list", login=RESIDENT, grow=more_disclosures, rows=LI),
    page("notices:list"),
    page(
        "notices:detail", args=("notice_id",), knobs=("wuye.notices.views_console.RECEIPTS_PAGE",)
    ),
    page(
        "notices_resident:list",
        login=RESIDENT,
        knobs=("wuye.notices.views_resident.LIST_SIZE",),
        rows=r'class="notice-item',
    ),
    page("activities:list"),
    page("activities:detail", args=("activity_id",)),
    page("activities_resident:list", login=RESIDENT, grow=more_activities, rows=LI),
    page(
        "activities_resident:mine",
        login=RESIDENT,
        knobs=("wuye.activities.views_resident.MY_SIGNUPS",),
        rows=ORDER_ITEM,
    ),
    page("surveys:list"),
    page(
        "surveys_resident:list",
        login=RESIDENT,
        knobs=("wuye.surveys.views_resident.LIST_LIMIT",),
        rows=LI,
    ),
    page("webhooks:list", grow=more_endpoints),
    page("webhooks:detail", args=("endpoint_id",), knobs=("wuye.webhooks.views.RECENT",)),
    page("webhooks:deliveries"),
    page(
        "quality_complaints:overview",
        login="quality",
        knobs=("wuye.quality.complaints.complaint_analytics:limit",),
    ),
    page(
        "care:ranked",
        login="quality",
        params=(("threshold", 1),),
        knobs=("wuye.quality.views_care.PAGE_SIZE",),
    ),
    page("conduct:spot_checks", login="quality"),
    page("conduct:items", login="quality", grow=more_conduct_items),
    page(
        "conduct:scorecard",
        login="quality",
        params=(("community", "{qianjiang}"),),
        big={"qianjiang": "cuihu"},
    ),
    page("training:courses", login="quality"),
    page(
        "training:course_detail",
        login="quality",
        args=("course",),
        knobs=("wuye.quality.views_training.NOT_PASSED_SHOWN",),
    ),
    page("training:sessions", login="quality"),
    page("quality_reports:monthly", login="quality"),
    page("privacy:audit_log"),
    page("privacy:deletion_list", params=(("state", ""),)),
    page(
        "conduct_field:mine",
        login="{inspected}",
        knobs=("wuye.quality.views_conduct_field.PAGE_SIZE",),
        rows=r'class="list-item spot-row"',
    ),
    page(
        "conduct_field:staff_search",
        login="quality",
        params=(("community", "{cuihu}"),),
        knobs=("wuye.quality.spot_checks.CANDIDATES_SHOWN",),
        rows=r'class="candidate"',
    ),
    page("training_field:my_courses", login="tech", grow=more_courses, rows=r'class="course-row"'),
    page("training:session_detail", login="quality", args=("session",), grow=more_attendees),
    page(
        "meters_field:home",
        login="tech",
        grow=more_communities_for_tech,
        rows=r'href="/m/meters/communities/',
    ),
    page("web:console", knobs=("wuye.web.views.COMMUNITIES_SHOWN",), sizes=(1, 2)),
    page(
        "web:field_home",
        login="guard",
        grow=more_duty,
        rows=r'class="shift-item"|<li><span class="muted">',
    ),
]


# --- what is not a list -------------------------------------------------------------------
# API GET operations that return a list but are not guarded, and why.
API_EXCLUDED = {
    # One row per community with arrears (GROUP BY in the database): no row objects, and
    # as many rows as the caller has communities.
    "/billing/arrears": "aggregate per community",
}

# URL names of pages that show no list of rows (or only one object's few rows), by reason.
POST_ONLY = "actions (POST only: a transition, a toggle, a delete)"
_PAGES_EXCLUDED = {
    "not a page: health check, language switch, JavaScript catalogue, payment callbacks, "
    "photos and the home redirect": (
        "healthz",
        "set_language",
        "javascript-catalog",
        "billing_notify:notify",
        "photos:file",
        "photos:thumbnail",
        "home",
    ),
    "sign-in and own account forms": (
        "accounts:login",
        "accounts:sms_login",
        "accounts:logout",
        "accounts:profile",
        "accounts:password",
        "notifications:preferences",
    ),
    "forms to create or edit one thing (GET shows the empty or filled form)": (
        "estates:community_create",
        "estates:building_create",
        "estates:unit_create",
        "estates:house_create",
        "privacy:retention",
        "estates:house_edit",
        "estates:commonarea_create",
        "people:resident_create",
        "people:resident_edit",
        "people:move_in",
        "people:move_out",
        "staff:member_create",
        "staff:role_edit",
        "staff:shift_create",
        "imports:upload",
        "imports:export",
        "notifications:template_create",
        "notifications:template_edit",
        "orders_console:intake",
        "orders_resident:report",
        "orders_resident:report_category",
        "orders_resident:report_form",
        "orders_resident:rate",
        "orders_resident:reopen",
        "orders_field:complete",
        "ledger:asset_create",
        "ledger:asset_edit",
        "ledger:vendor_create",
        "ledger:vendor_edit",
        "rounds:plan_create",
        "rounds:plan_edit",
        "rounds:plan_stops",
        "rounds:template_create",
        "rounds:template_edit",
        "rounds:item_create",
        "rounds:item_edit",
        "rounds:checkpoint_create",
        "rounds:checkpoint_edit",
        "incidents:report",
        "billing:fee_item_create",
        "billing:run_create",
        "billing:reading_create",
        "billing:disclosure_create",
        "billing:disclosure_edit",
        "billing:disclosure_expense_edit",
        "billing:opening_import",
        "billing:reading_import",
        "billing:waiver_propose",
        "billing:rule_create",
        "billing:rule_edit",
        "notices:create",
        "notices:edit",
        "activities:create",
        "activities:edit",
        "activities:signup_create",
        "activities:checkin_entry",
        "activities:checkin",
        "surveys:create",
        "surveys:create_servqual",
        "surveys:create_vote",
        "surveys:phone_entry",
        "webhooks:create",
        "webhooks:edit",
        "quality:settings",
        "conduct:item_edit",
        "training:course_create",
        "training:course_edit",
        "training:question_create",
        "training:question_edit",
        "training:session_create",
        "training:session_edit",
        "conduct_field:new_spot_check",
        "training_field:quiz",
        "qr:report",
    ),
    POST_ONLY: (
        "privacy:deletion_approve",
        "privacy:deletion_reject",
        "privacy_resident:request_deletion",
        "accounts:token_revoke",
        "staff:duty_toggle",
        "staff:roster_assign",
        "staff:roster_remove",
        "notifications:read",
        "notifications:read_all",
        "notifications:delivery_retry",
        "notifications:template_delete",
        "orders_console:order_action",
        "orders_resident:urge",
        "orders_resident:cancel",
        "orders_field:take",
        "orders_field:grab",
        "orders_field:arrive",
        "orders_field:pause",
        "orders_field:resume",
        "orders_field:transfer",
        "orders_field:return",
        "ledger:asset_status",
        "ledger:certificate_add",
        "ledger:attachment_upload",
        "ledger:attachment_delete",
        "rounds:task_accept",
        "rounds:plan_toggle",
        "rounds:item_remove",
        "rounds:item_move",
        "rounds_field:scan",
        "rounds_field:report_answer",
        "rounds_field:finish",
        "meters_field:record",
        "incidents:update",
        "incidents:transition",
        "billing:fee_item_price",
        "billing:run_issue",
        "billing:adjustment_propose",
        "billing:adjustment_decide",
        "billing:reading_confirm",
        "billing:disclosure_refresh",
        "billing:disclosure_expense_add",
        "billing:disclosure_expense_remove",
        "billing:disclosure_publish",
        "billing:disclosure_withdraw",
        "billing:dunning_send",
        "billing:waiver_decide",
        "cashier:refund_request",
        "cashier:refund_decide",
        "billing_resident:cashier_pay",
        "billing_resident:cashier_cancel",
        "billing_resident:order_cancel",
        "notices:publish",
        "notices:withdraw",
        "notices:attachment_upload",
        "notices:photo_upload",
        "notices:photo_delete",
        "notices:attachment_delete",
        "activities:open",
        "activities:cancel",
        "activities:recap",
        "activities:signup_cancel",
        "activities_resident:cancel",
        "surveys:edit",
        "surveys:question_add",
        "surveys:question_edit",
        "surveys:question_move",
        "surveys:question_remove",
        "surveys:open",
        "surveys:close",
        "webhooks:rotate",
        "webhooks:test",
        "webhooks:delete",
        "webhooks:redeliver",
        "care:recompute",
        "care:visit",
        "conduct:item_toggle",
        "conduct:item_move",
        "training:question_delete",
        "training:question_move",
        "training:session_cancel",
        "training:attendee_add",
        "training:attendee_remove",
        "training:attendance_mark",
        "quality_reports:generate",
        "web:field_duty",
    ),
    "files: exports, workbooks, PDFs, labels, images and attachments": (
        "privacy_resident:download",
        "imports:job_errors",
        "imports:template",
        "imports:export_houses",
        "imports:export_residents",
        "orders_console:export",
        "ledger:asset_export",
        "ledger:asset_labels",
        "ledger:asset_label",
        "ledger:attachment_download",
        "ledger:certificate_export",
        "rounds:checkpoint_labels",
        "facility_reports:export",
        "billing:bill_export",
        "billing:arrears_export",
        "billing:disclosure_export",
        "billing:disclosure_pdf",
        "billing:dunning_export",
        "billing:dunning_letters",
        "billing:opening_template",
        "billing:reading_template",
        "cashier:statement",
        "cashier:payment_export",
        "cashier:receipt",
        "billing_resident:disclosure_pdf",
        "notices:receipts_export",
        "notices:image",
        "notices:attachment",
        "notices_resident:image",
        "notices_resident:attachment",
        "activities:export",
        "activities:poster",
        "surveys:export",
        "quality:dashboard_export",
        "quality_complaints:export",
        "care:export",
        "conduct:export",
        "conduct:scorecard_export",
        "training:session_export",
        "quality_reports:pdf",
        "quality_reports:xlsx",
        "quality_reports:repairs",
        "quality_reports:charges",
    ),
    "figures computed in the database (sums and counts grouped by community, building, "
    "month or dimension), not rows": (
        "billing:arrears",
        "billing:run_progress",
        "quality:dashboard",
        "quality:index",
        "surveys:results",
    ),
    "one object's page: its fields, its timeline and its own few child rows": (
        "estates:community_detail",
        "estates:building_detail",
        "estates:house_detail",
        "people:resident_detail",
        "staff:member_detail",
        "imports:job_detail",
        "orders_console:order_detail",
        "orders_resident:order_detail",
        "orders_resident:submitted",
        "orders_field:order_detail",
        "ledger:asset_detail",
        "rounds:task_detail",
        "rounds:plan_detail",
        "rounds:template_detail",
        "rounds_field:visit",
        "meters_field:building",  # the sheet of meters_field:unit, for houses without a unit
        "incidents:detail",
        "billing:fee_item_detail",
        "billing:run_detail",
        "billing:bill_detail",
        "billing:disclosure_detail",
        "billing:dunning_house",
        "cashier:collect",
        "cashier:payment",
        "billing_resident:bill_detail",
        "billing_resident:receipt",
        "billing_resident:cashier",
        "billing_resident:result",
        "billing_resident:disclosure_detail",
        "notices_resident:detail",
        "activities_resident:detail",
        "activities_resident:ticket",
        "surveys:detail",
        "surveys:verify",
        "surveys_resident:detail",
        "surveys_resident:thanks",
        "surveys_resident:result",
        "webhooks:secret",
        "webhooks:delivery",
        "care:house",
        "conduct:spot_check",
        "conduct:scorecard_member",
        "conduct_field:spot_check",
        "training_field:course",
        "training_field:attempt",
        "qr:landing",
    ),
    "the caller's own few things: a resident's homes, the houses of one mobile number": (
        "web:resident_home",
        "privacy_resident:my_data",
        "orders_console:intake_lookup",
    ),
}
PAGES_EXCLUDED = {name: reason for reason, names in _PAGES_EXCLUDED.items() for name in names}

# What marks a view that cuts a list into pages: such a view is never excluded.
PAGER_MARKERS = ("keyset_page(", "newest_first_page(", "KeysetPage(", "page_of(")


def api_list_operations() -> set[str]:
    """GET operations whose answer is a list: an array, or an object with ``results``
    or ``next`` (a page), or that take a page size or cursor."""
    schema = ninja_api.get_openapi_schema()
    components = schema["components"]["schemas"]
    found = set()
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        content = operation["responses"].get("200", {}).get("content", {})
        body = content.get("application/json", {}).get("schema", {})
        if "$ref" in body:
            body = components[body["$ref"].rsplit("/", 1)[1]]
        properties = body.get("properties", {})
        parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
        if (
            body.get("type") == "array"
            or {"results", "next"} & set(properties)
            or {"page_size", "cursor", "after"} & parameters
        ):
            found.add(path.removeprefix(API))
    return found


def url_patterns(resolver=None, namespace=""):
    """(URL name, route, view) of every page outside the admin and the API."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            route = str(pattern.pattern)
            if route.startswith(("admin/", "api/")):
                continue
            inner = pattern.namespace or ""
            name = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from url_patterns(pattern, name)
        else:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern.callback


def view_source(view) -> str:
    """The view's source and that of the module functions it calls."""
    view = inspect.unwrap(view)
    module = inspect.getmodule(view)
    source = inspect.getsource(view)
    called = set(re.findall(r"\b(_?[a-z]\w*)\(", source))
    for name in sorted(called):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper.__module__ == module.__name__:
            source += inspect.getsource(helper)
    return source


# --- the tests --------------------------------------------------------------------------
def test_every_api_list_is_guarded_or_excluded():
    guarded = {case.target for case in API_CASES}
    listed = api_list_operations()
    assert not guarded & set(API_EXCLUDED)
    assert sorted(listed - guarded - set(API_EXCLUDED)) == [], "add a case for each"
    every_get = {
        path.removeprefix(API)
        for path, operations in ninja_api.get_openapi_schema()["paths"].items()
        if "get" in operations
    }
    assert sorted((guarded | set(API_EXCLUDED)) - every_get) == [], "gone from the API"


def test_every_page_is_guarded_or_excluded():
    guarded = {case.target for case in PAGE_CASES}
    names = {name for name, _view in url_patterns()}
    assert len(guarded) == len(PAGE_CASES)
    assert sorted(guarded & set(PAGES_EXCLUDED)) == []
    assert sorted(names - guarded - set(PAGES_EXCLUDED)) == [], "a new page: guard or exclude it"
    assert sorted((guarded | set(PAGES_EXCLUDED)) - names) == [], "gone from the URL conf"


def test_no_excluded_page_cuts_a_list_into_pages():
    """A view that pages through rows is a list, whatever else it shows. (Actions are
    left out: a refused POST shows its list page again, whose GET is guarded.)"""
    paging = sorted(
        name
        for name, view in url_patterns()
        if PAGES_EXCLUDED.get(name, POST_ONLY) != POST_ONLY
        and any(marker in view_source(view) for marker in PAGER_MARKERS)
    )
    assert paging == []


def _params(cases) -> list:
    params = []
    for case in cases:
        marks = ()
        if case.n_plus_one:
            marks = pytest.mark.xfail(strict=True, reason=f"N+1: {case.n_plus_one}")
        params.append(pytest.param(case, id=case.target, marks=marks))
    return params


def check(case: Case, data: dict):
    result = measure(case, data)
    (small_queries, big_queries), (small_rows, big_rows) = result["queries"], result["rows"]
    assert small_rows > 0, "the smaller request shows no rows"
    assert big_rows > small_rows, "the bigger request shows no more rows"
    if case.mode == "size":
        small, big = case.sizes
        # Both pages are full: the bigger one has (big - small) more rows.
        assert big_rows - small_rows == big - small, result["rows"]
        if case.is_api and case.size_param == "page_size":
            assert result["responses"][1].json()["next"], "only one page of rows"
    assert big_queries == small_queries, (
        f"{small_rows} rows: {small_queries} queries, {big_rows} rows: {big_queries} queries"
    )


@pytest.mark.parametrize("case", _params(API_CASES))
def test_api_list_queries_do_not_grow_with_rows(data, case):
    check(case, data)


@pytest.mark.parametrize("case", _params(PAGE_CASES))
def test_page_queries_do_not_grow_with_rows(data, case):
    check(case, data)
