"""The allow/deny matrix: every console page and every API operation × the test cast.

Expectations come from the policy table (``wuye.staff.policy.DEFAULT_ROLES``) and the
cast's declared scope below, not from the code under test. For every cell:
- allowed: a page/detail answers 200 (a list also contains the target object); a write
  changes the database;
- denied: anonymous is sent to sign in (pages) or gets 401 (API); others get 403/404
  (lists: 200 without the target), and the database is byte-for-byte unchanged.
Completeness tests fail when a URL or API operation is added without a row here.
"""

import dataclasses
import datetime
import functools
import importlib
import io
import json
import re
import sys
from collections.abc import Callable

import openpyxl
import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from wuye.accounts.services import create_api_token
from wuye.api import api
from wuye.imports import workbook
from wuye.imports.models import ImportJob
from wuye.staff.models import Role, RosterEntry, Shift
from wuye.staff.policy import DEFAULT_ROLES

# --- the cast's scope, declared independently of the code ---------------------
STAFF = [*DEFAULT_ROLES, "technician_y", "manager_y", "other_admin"]
ROLE_OF = {
    **{code: code for code in DEFAULT_ROLES},
    "technician_y": "technician",
    "manager_y": "project_manager",
    "other_admin": "company_admin",
}
SCOPE = {  # cast member -> (company, communities they are assigned to)
    **{code: ("A", {"x"}) for code in DEFAULT_ROLES},
    "technician_y": ("A", {"y"}),
    "manager_y": ("A", {"y"}),
    "other_admin": ("B", {"o"}),
}
RESIDENTS = ["resident_a", "resident_b", "other_resident"]
ACTORS = [None, "nobody", *RESIDENTS, *STAFF]

Allowed = Callable[[str | None], bool]


def staff_may(perm: str, *, community: str = "x", company_wide_only: bool = False) -> Allowed:
    """Staff whose role grants ``perm`` and whose scope covers ``community`` of company A."""

    def allowed(name):
        if name not in ROLE_OF:
            return False
        _zh, _en, wide, perms = DEFAULT_ROLES[ROLE_OF[name]]
        company, communities = SCOPE[name]
        if company_wide_only and not wide:
            return False
        return perm in perms and company == "A" and (wide or community in communities)

    return allowed


def staff_has(perm: str, *, company_wide_only: bool = False) -> Allowed:
    """Staff of any company whose role grants ``perm``: pages and creates that are
    not about one object of community X (each actor works in their own scope)."""

    def allowed(name):
        if name not in ROLE_OF:
            return False
        _zh, _en, wide, perms = DEFAULT_ROLES[ROLE_OF[name]]
        return perm in perms and (wide or not company_wide_only)

    return allowed


def anyone_signed_in(name):
    return name is not None


def only(*names) -> Allowed:
    return lambda name: name in names


def either(*rules: Allowed) -> Allowed:
    return lambda name: any(rule(name) for rule in rules)


def company_a_staff(name):
    return name in SCOPE and SCOPE[name][0] == "A"


def staff_of_any_company(name):
    return name in SCOPE


ESTATE_VIEW_X = staff_may("estates.view")
ESTATE_MANAGE_X = staff_may("estates.manage")
PEOPLE_VIEW_X = staff_may("people.view")
PEOPLE_MANAGE_X = staff_may("people.manage")
STAFF_VIEW_X = staff_may("staff.view")
STAFF_MANAGE_X = staff_may("staff.manage")
# Work orders of community X: its desk and the company-wide viewers; workers act.
ORDER_VIEW_X = either(staff_may("workorders.view"), only("resident_a"))
DISPATCH_X = staff_may("workorders.dispatch")
COMPLAINTS_X = staff_may("workorders.complaints")
# Residents of community X (resident A and B) see X's community and their company.
X_RESIDENTS = only("resident_a", "resident_b")


# --- database writes -----------------------------------------------------------------
VOLATILE = {"last_login", "last_used_at", "updated_at"}
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")
TABLE = re.compile(r'^\s*(?:INSERT (?:OR IGNORE )?INTO|UPDATE|DELETE FROM)\s+"([^"]+)"', re.I)


@functools.cache
def wuye_tables() -> frozenset[str]:
    """Every Wuye table (users included), many-to-many link tables too."""
    models = [
        m for m in apps.get_models(include_auto_created=True) if m.__module__.startswith("wuye.")
    ]
    # The audit log of exports and looks at personal data is written by reads on
    # purpose (wuye.privacy): bookkeeping like last_login, not a change of data.
    return frozenset(m._meta.db_table for m in models) - {"privacy_accesslog"}


class Writes:
    """Records each statement that changed rows of a Wuye table while installed as the
    connection's execute wrapper. The request runs in this process on this connection
    (tasks run inline), so no recorded write means the database is unchanged: the same
    promise as comparing a dump before and after, at a fraction of the cost. Updates
    that only touch bookkeeping columns (``VOLATILE``) do not count."""

    def __init__(self):
        self.tables = wuye_tables()
        self.statements: list[str] = []
        self.savepoints: dict[str, int] = {}  # name -> writes recorded before it

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        words = sql.split()
        verb = words[0].upper()
        if verb == "SAVEPOINT":
            self.savepoints[words[1]] = len(self.statements)
        elif verb == "ROLLBACK" and len(words) > 2:  # ROLLBACK TO SAVEPOINT name: undone
            del self.statements[self.savepoints[words[-1]] :]
        elif verb in WRITE_VERBS and _changed_rows(verb, sql, context["cursor"]):
            table = re.search(TABLE, sql)
            if (table is None or table[1] in self.tables) and not _volatile_only(verb, sql):
                self.statements.append(sql)
        return result


def _changed_rows(verb: str, sql: str, cursor) -> bool:
    """An INSERT that succeeded wrote a row unless it may skip conflicts (then its row
    count says; a RETURNING insert's count is not known before its rows are read)."""
    if verb == "INSERT" and not re.search(r"ON CONFLICT|INSERT OR IGNORE", sql, re.I):
        return True
    return cursor.rowcount != 0


def _volatile_only(verb: str, sql: str) -> bool:
    if verb != "UPDATE":
        return False
    assignments = sql.split(" SET ", 1)[-1].split(" WHERE ", 1)[0]
    return set(re.findall(r'"(\w+)"\s*=', assignments)) <= VOLATILE


# --- specs ----------------------------------------------------------------------------
@dataclasses.dataclass
class Case:
    method: str
    url: Callable  # cast -> str
    allowed: Allowed
    data: Callable | None = None  # (cast, actor name) -> payload; makes this a write
    target: Callable | None = None  # lists: (cast) -> marker the allowed response contains
    multipart: bool = False  # API writes: send ``data`` as multipart/form-data (uploads)


def page(name, allowed, *, args=None, data=None, target=None, method=None):
    def url(cast):
        return reverse(name, args=args(cast) if args else None)

    return Case(method or ("POST" if data else "GET"), url, allowed, data, target)


def _n(name: str | None) -> int:
    return ACTORS.index(name)


def _week_day(n: int) -> str:
    return (datetime.date(2027, 1, 4) + datetime.timedelta(days=n)).isoformat()


def house_fields(cast, name):
    return {
        "community": cast.community_x.id,
        "building": cast.building_x1.id,
        "unit": cast.unit_x1.id,
        "number": f"9{_n(name):03d}",
        "floor": 9,
        "built_area": "88.00",
        "indoor_area": "70.00",
        "kind": "residence",
        "occupancy": "vacant",
    }


def detail_link(name):
    def marker(cast_obj_getter):
        return lambda cast: reverse(name, args=[cast_obj_getter(cast).id])

    return marker


# --- equipment ledger console (helpers) ---
def LEDGER_VENDORS_A(name):
    """Vendors are company master data: every facilities viewer of company A."""
    return company_a_staff(name) and staff_has("facilities.view")(name)


def _ledger_category(cast):
    from wuye.facilities.models import AssetCategory

    return AssetCategory.objects.get(company=cast.company, code="elevator")


def _ledger_vendor(cast):
    from wuye.facilities.models import Vendor

    vendor, _ = Vendor.objects.get_or_create(company=cast.company, name="矩阵电梯维保")
    return vendor


def _ledger_asset(cast):
    """Lift 矩阵客梯 of community X, maintained by the matrix vendor (once per cell)."""
    from wuye.facilities import services as fac
    from wuye.facilities.models import Asset

    found = Asset.objects.filter(company=cast.company, name="矩阵客梯").first()
    return found or fac.create_asset(
        actor=cast.actor("company_admin"),
        community=cast.community_x,
        category=_ledger_category(cast),
        name="矩阵客梯",
        vendor=_ledger_vendor(cast),
    )


def _ledger_certificate(cast):
    from wuye.facilities.models import Certificate

    certificate, _ = Certificate.objects.get_or_create(
        asset=_ledger_asset(cast),
        kind="elevator",
        defaults={"number": "矩阵-TS-01", "expires_on": datetime.date(2027, 6, 30)},
    )
    return certificate


def _ledger_pdf(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n")


def _ledger_attachment(cast):
    """The lift's manual, uploaded by the company admin (once per cell)."""
    from wuye.facilities import services as fac
    from wuye.facilities.models import AssetAttachment

    found = AssetAttachment.objects.filter(name="矩阵说明书.pdf").first()
    return found or fac.add_attachment(
        actor=cast.actor("company_admin"),
        asset=_ledger_asset(cast),
        upload=_ledger_pdf("矩阵说明书.pdf"),
    )


# --- emergencies (helpers) ---
# Emergencies of community X: whoever reports or manages them there.
INCIDENT_X = either(staff_may("incidents.report"), staff_may("incidents.manage"))


def _incident(cast):
    """A water outage in X reported by the dispatcher (residents not told)."""
    from wuye.incidents.models import Incident
    from wuye.incidents.services import report_incident

    incident = Incident.objects.filter(community=cast.community_x).first()
    if incident is None:
        incident = report_incident(
            actor=cast.actor("dispatcher"),
            community=cast.community_x,
            kind="water_outage",
            description="1栋停水",
            tell_residents=False,
        )
    return incident


# --- rounds console (helpers) ---
ROUNDS_VIEW_X = staff_may("facilities.view")
ROUNDS_MANAGE_X = staff_may("facilities.manage")


def CHECKLISTS_VIEW_A(name):
    """Checklists are company master data: every facilities viewer of company A."""
    return company_a_staff(name) and staff_has("facilities.view")(name)


def CHECKLISTS_MANAGE_A(name):
    return company_a_staff(name) and staff_has("facilities.manage")(name)


def _rounds_checkpoint(cast):
    from wuye.facilities.models import Checkpoint

    point, _ = Checkpoint.objects.get_or_create(
        company=cast.company, community=cast.community_x, name="矩阵北门岗"
    )
    return point


def _rounds_awaiting(cast):
    """The pump-room task, finished and waiting for the supervisor's acceptance."""
    from wuye.facilities.models import Task

    task = _pump_round(cast)["task"]
    Task.objects.filter(pk=task.pk).update(status=Task.Status.AWAITING_ACCEPTANCE)
    return task


def _rounds_plan_fields(cast, name):
    return {
        "name": f"矩阵巡检{_n(name)}",
        "template": _pump_round(cast)["template"].id,
        "recurrence": "weekly",
        "days": ["1", "4"],
        "window_start": "08:00",
        "window_end": "10:00",
        "assignee": cast.staff["technician"].id,
        "starts_on": "2026-12-01",
    }


PAGES: dict[str, Case] = {
    # estates
    "estates:tree": page(
        "estates:tree",
        ESTATE_VIEW_X,
        target=lambda c: reverse("estates:tree_community", args=[c.community_x.id]),
    ),
    "estates:tree_community": page(
        "estates:tree_community", ESTATE_VIEW_X, args=lambda c: [c.community_x.id]
    ),
    "estates:tree_building": page(
        "estates:tree_building", ESTATE_VIEW_X, args=lambda c: [c.building_x1.id]
    ),
    "estates:tree_unit": page("estates:tree_unit", ESTATE_VIEW_X, args=lambda c: [c.unit_x1.id]),
    "estates:community_detail": page(
        "estates:community_detail", ESTATE_VIEW_X, args=lambda c: [c.community_x.id]
    ),
    "estates:community_create": page(
        "estates:community_create",
        staff_has("estates.manage", company_wide_only=True),
        data=lambda c, n: {"name": f"新项目{_n(n)}", "code": f"new{_n(n)}", "kind": "residential"},
    ),
    "estates:building_detail": page(
        "estates:building_detail", ESTATE_VIEW_X, args=lambda c: [c.building_x1.id]
    ),
    "estates:building_create": page(
        "estates:building_create",
        ESTATE_MANAGE_X,
        args=lambda c: [c.community_x.id],
        data=lambda c, n: {
            "name": f"{_n(n)}号楼",
            "floors_above": 6,
            "floors_below": 0,
            "sort_order": 0,
        },
    ),
    "estates:unit_create": page(
        "estates:unit_create",
        ESTATE_MANAGE_X,
        args=lambda c: [c.building_x1.id],
        data=lambda c, n: {"name": f"{_n(n)}单元", "sort_order": 0},
    ),
    "estates:house_list": page(
        "estates:house_list",
        ESTATE_VIEW_X,
        target=lambda c: reverse("estates:house_detail", args=[c.house_a.id]),
    ),
    "estates:house_create": page("estates:house_create", ESTATE_MANAGE_X, data=house_fields),
    "estates:house_detail": page(
        "estates:house_detail", ESTATE_VIEW_X, args=lambda c: [c.house_a.id]
    ),
    "estates:house_edit": page(
        "estates:house_edit",
        ESTATE_MANAGE_X,
        args=lambda c: [c.house_a.id],
        data=lambda c, n: {
            "number": "0101",
            "floor": 1,
            "built_area": f"{100 + _n(n)}.00",
            "indoor_area": "70.00",
            "kind": "residence",
            "occupancy": "rented",
        },
    ),
    "estates:commonarea_list": page(
        "estates:commonarea_list", ESTATE_VIEW_X, target=lambda c: "翠湖花园大堂"
    ),
    "estates:commonarea_create": page(
        "estates:commonarea_create",
        ESTATE_MANAGE_X,
        data=lambda c, n: {
            "community": c.community_x.id,
            "name": f"花园{_n(n)}",
            "kind": "garden",
        },
    ),
    # people
    "people:resident_list": page(
        "people:resident_list",
        PEOPLE_VIEW_X,
        target=lambda c: reverse("people:resident_detail", args=[c.resident_a.id]),
    ),
    "people:resident_create": page(
        "people:resident_create",
        PEOPLE_MANAGE_X,
        data=lambda c, n: {
            "name": f"新住户{_n(n)}",
            "mobile": f"1360000{_n(n):04d}",
            "community": c.community_x.id,
            "building": c.building_x1.id,
            "unit": c.unit_x1.id,
            "number": "0101",
            "relation": "family",
            "move_in": "2026-01-01",
        },
    ),
    "people:resident_detail": page(
        "people:resident_detail", PEOPLE_VIEW_X, args=lambda c: [c.resident_a.id]
    ),
    "people:resident_edit": page(
        "people:resident_edit",
        PEOPLE_MANAGE_X,
        args=lambda c: [c.resident_a.id],
        data=lambda c, n: {"name": "张伟", "mobile": "13800000001", "note": f"备注{_n(n)}"},
    ),
    "people:move_in": page(
        "people:move_in",
        PEOPLE_MANAGE_X,
        args=lambda c: [c.resident_a.id],
        data=lambda c, n: {
            "community": c.community_x.id,
            "building": c.building_x1.id,
            "unit": c.unit_x1.id,
            "number": "0102",
            "relation": "family",
            "move_in": "2026-01-01",
        },
    ),
    "people:move_out": page(
        "people:move_out",
        PEOPLE_MANAGE_X,
        args=lambda c: [c.resident_b.residencies.get().id],
        data=lambda c, n: {"move_out": "2026-06-01"},
    ),
    # staff
    "staff:member_list": page(
        "staff:member_list",
        STAFF_VIEW_X,
        target=lambda c: reverse("staff:member_detail", args=[c.staff["technician"].id]),
    ),
    "staff:member_create": page(
        "staff:member_create",
        STAFF_MANAGE_X,
        data=lambda c, n: {
            "name": f"新员工{_n(n)}",
            "employee_no": f"N{_n(n)}",
            "username": f"new.staff{_n(n)}",
            "password": "Str0ng-pass-2026",
            "roles": [Role.objects.get(company=c.company, code="cleaner").id],
            "communities": [c.community_x.id],
        },
    ),
    "staff:member_detail": page(
        "staff:member_detail", STAFF_VIEW_X, args=lambda c: [c.staff["technician"].id]
    ),
    "staff:duty_toggle": page(
        "staff:duty_toggle",
        either(STAFF_MANAGE_X, only("technician")),
        args=lambda c: [c.staff["technician"].id],
        data=lambda c, n: {"status": "off_duty"},
    ),
    "staff:role_list": page("staff:role_list", staff_has("staff.view")),
    "staff:role_edit": page(
        "staff:role_edit",
        staff_may("staff.manage", company_wide_only=True),
        args=lambda c: [Role.objects.get(company=c.company, code="guard").id],
        data=lambda c, n: {"name": f"保安{_n(n)}", "permissions": ["estates.view"]},
    ),
    "staff:shift_list": page("staff:shift_list", staff_has("staff.view")),
    "staff:shift_create": page(
        "staff:shift_create",
        staff_has("staff.manage"),
        data=lambda c, n: {
            "name": f"班{_n(n)}",
            "start_time": "07:00",
            "end_time": "15:00",
            "color": "#123456",
        },
    ),
    "staff:roster": page(
        "staff:roster",
        STAFF_VIEW_X,
        target=lambda c: reverse("staff:member_detail", args=[c.staff["technician"].id]),
    ),
    "staff:roster_assign": page(
        "staff:roster_assign",
        STAFF_MANAGE_X,
        data=lambda c, n: {
            "staff": c.staff["technician"].id,
            "community": c.community_x.id,
            "date": _week_day(_n(n)),
            "shift": Shift.objects.get(company=c.company, name="早班").id,
        },
    ),
    "staff:roster_remove": page(
        "staff:roster_remove",
        STAFF_MANAGE_X,
        args=lambda c: [_roster_entry(c).id],
        data=lambda c, n: {},
    ),
    # imports and exports
    "imports:job_list": page(
        "imports:job_list",
        ESTATE_MANAGE_X,
        target=lambda c: reverse("imports:job_detail", args=[_import_job(c).id]),
    ),
    "imports:upload": page(
        "imports:upload", lambda n: staff_has("estates.manage")(n) and staff_has("people.manage")(n)
    ),
    "imports:job_detail": page(
        "imports:job_detail", ESTATE_MANAGE_X, args=lambda c: [_import_job(c).id]
    ),
    "imports:job_errors": page(
        "imports:job_errors", ESTATE_MANAGE_X, args=lambda c: [_import_job(c).id]
    ),
    "imports:template": page("imports:template", staff_has("estates.view")),
    "imports:export": page("imports:export", staff_has("people.view")),
    "imports:export_houses": page(
        "imports:export_houses", PEOPLE_VIEW_X, args=lambda c: [c.community_x.id]
    ),
    "imports:export_residents": page(
        "imports:export_residents", PEOPLE_VIEW_X, args=lambda c: [c.community_x.id]
    ),
    # surfaces and accounts
    "web:console": page("web:console", staff_of_any_company),
    "web:field_home": page("web:field_home", staff_of_any_company),
    "web:field_duty": page(
        "web:field_duty",
        staff_of_any_company,
        data=lambda c, n: {"status": "off_duty"},
    ),
    # Signed-in users linked to nothing get a friendly "account not linked" page;
    # staff without a house are sent back to their own home (a 302, checked below).
    "web:resident_home": page("web:resident_home", only(*RESIDENTS, "nobody")),
    # work orders on phones: the resident's own orders, the technician's own and pool
    "orders_resident:my_orders": page("orders_resident:my_orders", only(*RESIDENTS, "nobody")),
    "orders_resident:report": page("orders_resident:report", only(*RESIDENTS, "nobody")),
    "orders_resident:report_category": page(
        "orders_resident:report_category", only(*RESIDENTS, "nobody"), args=lambda c: ["repair"]
    ),
    "orders_resident:report_form": page(
        "orders_resident:report_form",
        only(*RESIDENTS),
        args=lambda c: ["repair"],
        data=lambda c, n: _report_payload(c, n),
    ),
    "orders_resident:submitted": page(
        "orders_resident:submitted", only("resident_a"), args=lambda c: [_wo(c, "submitted").id]
    ),
    "orders_resident:order_detail": page(
        "orders_resident:order_detail", only("resident_a"), args=lambda c: [_wo(c, "dispatched").id]
    ),
    "orders_resident:urge": page(
        "orders_resident:urge",
        only("resident_a"),
        args=lambda c: [_wo(c, "dispatched").id],
        data=lambda c, n: {"note": "快点"},
    ),
    "orders_resident:cancel": page(
        "orders_resident:cancel",
        only("resident_a"),
        args=lambda c: [_wo(c, "submitted").id],
        data=lambda c, n: {},
    ),
    "orders_resident:rate": page(
        "orders_resident:rate",
        only("resident_a"),
        args=lambda c: [_wo(c, "completed").id],
        data=lambda c, n: {"overall": "5", "empathy": "4", "reasons": ["on_time"]},
    ),
    "orders_resident:reopen": page(
        "orders_resident:reopen",
        only("resident_a"),
        args=lambda c: [_wo(c, "completed").id],
        data=lambda c, n: {"reason": "还是漏水"},
    ),
    "orders_field:tasks": page(
        "orders_field:tasks", only("technician"), target=lambda c: _wo(c, "dispatched").number
    ),
    "orders_field:pool": page(
        "orders_field:pool", staff_may("workorders.work"), target=lambda c: _wo(c, "pool").number
    ),
    "orders_field:order_detail": page(
        "orders_field:order_detail", only("technician"), args=lambda c: [_wo(c, "dispatched").id]
    ),
    "orders_field:grab": page(
        "orders_field:grab",
        staff_may("workorders.work"),
        args=lambda c: [_wo(c, "pool").id],
        data=lambda c, n: {},
    ),
    "orders_field:take": page(
        "orders_field:take",
        only("technician"),
        args=lambda c: [_wo(c, "dispatched").id],
        data=lambda c, n: {},
    ),
    "orders_field:arrive": page(
        "orders_field:arrive",
        only("technician"),
        args=lambda c: [_wo(c, "taken").id],
        data=lambda c, n: {},
    ),
    "orders_field:pause": page(
        "orders_field:pause",
        only("technician"),
        args=lambda c: [_wo(c, "taken").id],
        data=lambda c, n: {"pause-reason": "等配件"},
    ),
    "orders_field:resume": page(
        "orders_field:resume",
        only("technician"),
        args=lambda c: [_wo(c, "paused").id],
        data=lambda c, n: {},
    ),
    "orders_field:transfer": page(
        "orders_field:transfer",
        only("technician"),
        args=lambda c: [_wo(c, "dispatched").id],
        data=lambda c, n: {"transfer-assignee": c.staff["guard"].id, "transfer-reason": "他更近"},
    ),
    "orders_field:return": page(
        "orders_field:return",
        only("technician"),
        args=lambda c: [_wo(c, "dispatched").id],
        data=lambda c, n: {"return-reason": "不是我的专业"},
    ),
    "orders_field:complete": page(
        "orders_field:complete",
        only("technician"),
        args=lambda c: [_wo(c, "in_progress").id],
        data=lambda c, n: {
            "resolution": "更换玻璃",
            "labour_amount": "50",
            "materials-TOTAL_FORMS": "1",
            "materials-INITIAL_FORMS": "0",
            "materials-0-name": "玻璃",
            "materials-0-quantity": "1",
            "materials-0-unit_price": "80",
        },
    ),
    # work orders in the office console
    "orders_console:board": page(
        "orders_console:board",
        staff_may("workorders.view"),
        target=lambda c: _desk_order(c, "accepted").number,
    ),
    "orders_console:order_detail": page(
        "orders_console:order_detail",
        staff_may("workorders.view"),
        args=lambda c: [_desk_order(c, "accepted").id],
    ),
    "orders_console:order_action": page(
        "orders_console:order_action",
        staff_may("workorders.dispatch"),
        args=lambda c: [_desk_order(c, "accepted").id, "dispatch"],
        data=lambda c, n: {"dispatch-assignee": c.staff["technician"].id},
    ),
    "orders_console:intake": page(
        "orders_console:intake",
        lambda n: staff_may("workorders.create")(n) and staff_may("workorders.view")(n),
        data=lambda c, n: {
            "channel": "phone",
            "place": "house",
            "community": c.community_x.id,
            "building": c.building_x1.id,
            "unit": c.unit_x1.id,
            "number": "0101",
            "category_group": _category(c, "public_facilities").id,
            "category": _category(c, "lighting").id,
            "description": f"电话报修{_n(n)}",
            "contact_name": "张伟",
            "contact_mobile": "13800000001",
        },
    ),
    "orders_console:intake_lookup": Case(
        "GET",
        lambda c: reverse("orders_console:intake_lookup") + "?mobile=13800000001",
        lambda n: all(
            staff_may(p)(n) for p in ("workorders.create", "workorders.view", "people.view")
        ),
        target=lambda c: c.house_a.address,
    ),
    "orders_console:return_visits": page(
        "orders_console:return_visits",
        staff_may("workorders.dispatch"),
        target=lambda c: _desk_order(c, "completed").number,
    ),
    "orders_console:export": page("orders_console:export", staff_has("workorders.view")),
    "accounts:profile": page("accounts:profile", anyone_signed_in),
    "accounts:password": page("accounts:password", anyone_signed_in),
    "accounts:tokens": page("accounts:tokens", anyone_signed_in),
    "accounts:token_revoke": page(
        "accounts:token_revoke",
        only("dispatcher"),
        args=lambda c: [_dispatcher_token(c).id],
        data=lambda c, n: {},
    ),
    # notifications: everyone reaches their own and nobody else's
    "notifications:list": page(
        "notifications:list", only("dispatcher"), target=lambda c: _dispatcher_notification(c).title
    ),
    "notifications:read": page(
        "notifications:read",
        only("dispatcher"),
        args=lambda c: [_dispatcher_notification(c).id],
        data=lambda c, n: {},
    ),
    "notifications:read_all": page(
        "notifications:read_all", anyone_signed_in, data=lambda c, n: _unread_notification(c, n)
    ),
    # photos: the uploader (resident A) and whoever sees the order they are attached to
    "photos:file": page("photos:file", ORDER_VIEW_X, args=lambda c: [_order_photo(c).id]),
    "photos:thumbnail": page("photos:thumbnail", ORDER_VIEW_X, args=lambda c: [_order_photo(c).id]),
    # --- rounds on phones and QR labels ---
    "rounds_field:today": page(
        "rounds_field:today",
        only("technician"),
        target=lambda c: _fac_scan_today(c) and _pump_round(c)["plan"].name,
    ),
    "rounds_field:scan": page(
        "rounds_field:scan", only("technician"), data=lambda c, n: _fac_scan_today(c)
    ),
    "rounds_field:visit": page(
        "rounds_field:visit",
        only("technician"),
        args=lambda c: [_fac_task(c, "visited").id],
        data=lambda c, n: _checklist_form(c),
    ),
    "rounds_field:report_answer": page(
        "rounds_field:report_answer",
        only("technician"),
        args=lambda c: [_abnormal_answer(c).id],
        data=lambda c, n: {"category": _category(c, "lights_sockets").id},
    ),
    "rounds_field:finish": page(
        "rounds_field:finish",
        only("technician"),
        args=lambda c: [_fac_task(c, "answered").id],
        data=lambda c, n: {},
    ),
    # A label: the worker's check-in, a card for staff who see X's places, the fault
    # report for X's residents; the same "not recognised" 404 for everyone else.
    "qr:landing": page(
        "qr:landing",
        either(
            *(staff_may(p) for p in ("facilities.view", "facilities.manage", "facilities.work")),
            X_RESIDENTS,
        ),
        args=lambda c: [_fac_scan_today(c)["code"]],
    ),
    "qr:report": page(
        "qr:report",
        X_RESIDENTS,
        args=lambda c: [_pump_round(c)["pump"].qr_token],
        data=lambda c, n: {
            "category": _category(c, "water_leak").id,
            "description": "水泵漏水",
            "contact_name": "住户",
            "contact_mobile": "13800000001",
        },
    ),
    # --- equipment ledger console ---
    "ledger:asset_list": page(
        "ledger:asset_list", staff_may("facilities.view"), target=lambda c: _ledger_asset(c).name
    ),
    "ledger:asset_export": page("ledger:asset_export", staff_has("facilities.view")),
    "ledger:asset_labels": Case(
        "GET",
        lambda c: reverse("ledger:asset_labels") + f"?layout=a4-3x8&ids={_ledger_asset(c).id}",
        staff_may("facilities.view"),
    ),
    "ledger:asset_create": page(
        "ledger:asset_create",
        staff_may("facilities.manage"),
        data=lambda c, n: {
            "community": c.community_x.id,
            "category": _ledger_category(c).id,
            "name": f"新电梯{_n(n)}",
            "importance": "normal",
        },
    ),
    "ledger:asset_detail": page(
        "ledger:asset_detail", staff_may("facilities.view"), args=lambda c: [_ledger_asset(c).id]
    ),
    "ledger:asset_edit": page(
        "ledger:asset_edit",
        staff_may("facilities.manage"),
        args=lambda c: [_ledger_asset(c).id],
        data=lambda c, n: {
            "category": _ledger_category(c).id,
            "code": "DT-0900",
            "name": f"改名电梯{_n(n)}",
            "importance": "critical",
        },
    ),
    "ledger:asset_status": page(
        "ledger:asset_status",
        staff_may("facilities.manage"),
        args=lambda c: [_ledger_asset(c).id],
        data=lambda c, n: {"status-status": "stopped", "status-reason": "年检停梯"},
    ),
    "ledger:certificate_add": page(
        "ledger:certificate_add",
        staff_may("facilities.manage"),
        args=lambda c: [_ledger_asset(c).id],
        data=lambda c, n: {
            "cert-kind": "elevator",
            "cert-expires_on": "2027-10-31",
            "cert-remind_days": "30",
        },
    ),
    "ledger:asset_label": Case(
        "GET",
        lambda c: reverse("ledger:asset_label", args=[_ledger_asset(c).id]) + "?layout=a4-2x4",
        staff_may("facilities.view"),
    ),
    "ledger:vendor_list": page(
        "ledger:vendor_list", LEDGER_VENDORS_A, target=lambda c: _ledger_vendor(c).name
    ),
    "ledger:vendor_create": page(
        "ledger:vendor_create",
        staff_has("facilities.manage"),
        data=lambda c, n: {"name": f"新供应商{_n(n)}", "is_active": "on"},
    ),
    "ledger:vendor_detail": page(
        "ledger:vendor_detail", LEDGER_VENDORS_A, args=lambda c: [_ledger_vendor(c).id]
    ),
    "ledger:vendor_edit": page(
        "ledger:vendor_edit",
        lambda n: company_a_staff(n) and staff_has("facilities.manage")(n),
        args=lambda c: [_ledger_vendor(c).id],
        data=lambda c, n: {"name": f"改名供应商{_n(n)}", "scope": "电梯维保"},
    ),
    "ledger:certificate_list": page(
        "ledger:certificate_list",
        staff_may("facilities.view"),
        target=lambda c: _ledger_certificate(c).number,
    ),
    "ledger:certificate_export": page("ledger:certificate_export", staff_has("facilities.view")),
    # --- emergencies ---
    "incidents:list": page("incidents:list", INCIDENT_X, target=lambda c: _incident(c).number),
    "incidents:report": page(
        "incidents:report",
        staff_may("incidents.report"),
        data=lambda c, n: {
            "community": c.community_x.id,
            "kind": "water_outage",
            "severity": "major",
            "description": f"停水{_n(n)}",
            "residents": "no",
        },
    ),
    "incidents:detail": page("incidents:detail", INCIDENT_X, args=lambda c: [_incident(c).id]),
    "incidents:update": page(
        "incidents:update",
        INCIDENT_X,
        args=lambda c: [_incident(c).id],
        data=lambda c, n: {"update-note": f"进展{_n(n)}"},
    ),
    "incidents:transition": page(
        "incidents:transition",
        staff_may("incidents.manage"),
        args=lambda c: [_incident(c).id, "resolve"],
        data=lambda c, n: {"resolve-note": f"已恢复{_n(n)}"},
    ),
    # --- facilities reports ---
    "facility_reports:completion": Case(
        "GET",
        lambda c: _report_url(c, "completion", "2026-11-30"),
        staff_may("facilities.view"),
        target=lambda c: _pump_round(c)["plan"].name,
    ),
    "facility_reports:anomalies": Case(
        "GET",
        lambda c: _report_url(c, "anomalies", "2026-11-30"),
        staff_may("facilities.view"),
        target=lambda c: _report_finding(c),
    ),
    "facility_reports:overdue": Case(
        "GET",
        lambda c: _report_url(c, "overdue", "2026-11-30"),
        staff_may("facilities.view"),
        target=lambda c: _report_missed(c),
    ),
    "facility_reports:assets": Case(
        "GET",
        lambda c: _report_url(c, "assets", "2026-11-01"),
        staff_may("facilities.view"),
        target=lambda c: _pump_round(c)["pump"].code,
    ),
    "facility_reports:export": Case(
        "GET",
        lambda c: _report_url(c, "export", "2026-11-01"),
        staff_has("facilities.view"),
    ),
    # --- rounds console ---
    "rounds:task_board": Case(
        "GET",
        lambda c: reverse("rounds:task_board") + "?date_from=2026-11-30",
        ROUNDS_VIEW_X,
        target=lambda c: reverse("rounds:task_detail", args=[_pump_round(c)["task"].id]),
    ),
    "rounds:task_detail": page(
        "rounds:task_detail", ROUNDS_VIEW_X, args=lambda c: [_pump_round(c)["task"].id]
    ),
    "rounds:task_accept": page(
        "rounds:task_accept",
        ROUNDS_MANAGE_X,
        args=lambda c: [_rounds_awaiting(c).id],
        data=lambda c, n: {},
    ),
    "rounds:plan_list": page(
        "rounds:plan_list", ROUNDS_VIEW_X, target=lambda c: _pump_round(c)["plan"].name
    ),
    "rounds:plan_create": page(
        "rounds:plan_create",
        ROUNDS_MANAGE_X,
        data=lambda c, n: {"community": c.community_x.id, **_rounds_plan_fields(c, n)},
    ),
    "rounds:plan_detail": page(
        "rounds:plan_detail", ROUNDS_VIEW_X, args=lambda c: [_pump_round(c)["plan"].id]
    ),
    "rounds:plan_edit": page(
        "rounds:plan_edit",
        ROUNDS_MANAGE_X,
        args=lambda c: [_pump_round(c)["plan"].id],
        data=lambda c, n: _rounds_plan_fields(c, n),
    ),
    "rounds:plan_stops": page(
        "rounds:plan_stops",
        ROUNDS_MANAGE_X,
        args=lambda c: [_pump_round(c)["plan"].id],
        data=lambda c, n: {"add": f"c{_rounds_checkpoint(c).id}"},
    ),
    "rounds:plan_toggle": page(
        "rounds:plan_toggle",
        ROUNDS_MANAGE_X,
        args=lambda c: [_pump_round(c)["plan"].id],
        data=lambda c, n: {},
    ),
    "rounds:template_list": page(
        "rounds:template_list",
        CHECKLISTS_VIEW_A,
        target=lambda c: _pump_round(c)["template"].name,
    ),
    "rounds:template_create": page(
        "rounds:template_create",
        staff_has("facilities.manage"),
        data=lambda c, n: {"name": f"新清单{_n(n)}", "kind": "patrol", "is_active": "on"},
    ),
    "rounds:template_detail": page(
        "rounds:template_detail",
        CHECKLISTS_VIEW_A,
        args=lambda c: [_pump_round(c)["template"].id],
    ),
    "rounds:template_edit": page(
        "rounds:template_edit",
        CHECKLISTS_MANAGE_A,
        args=lambda c: [_pump_round(c)["template"].id],
        data=lambda c, n: {"name": f"改名清单{_n(n)}", "kind": "inspection", "is_active": "on"},
    ),
    "rounds:item_create": page(
        "rounds:item_create",
        CHECKLISTS_MANAGE_A,
        args=lambda c: [_pump_round(c)["template"].id],
        data=lambda c, n: {"label": "阀门", "type": "ok_abnormal", "required": "on"},
    ),
    "rounds:item_edit": page(
        "rounds:item_edit",
        CHECKLISTS_MANAGE_A,
        args=lambda c: [_pump_round(c)["noise"].id],
        data=lambda c, n: {"label": "电机声音", "type": "ok_abnormal", "required": "on"},
    ),
    "rounds:item_remove": page(
        "rounds:item_remove",
        CHECKLISTS_MANAGE_A,
        args=lambda c: [_pump_round(c)["noise"].id],
        data=lambda c, n: {},
    ),
    "rounds:item_move": page(
        "rounds:item_move",
        CHECKLISTS_MANAGE_A,
        args=lambda c: [_pump_round(c)["noise"].id, "up"],
        data=lambda c, n: {},
    ),
    "rounds:checkpoint_list": page(
        "rounds:checkpoint_list", ROUNDS_VIEW_X, target=lambda c: _rounds_checkpoint(c).name
    ),
    "rounds:checkpoint_create": page(
        "rounds:checkpoint_create",
        ROUNDS_MANAGE_X,
        data=lambda c, n: {"community": c.community_x.id, "name": f"岗亭{_n(n)}"},
    ),
    "rounds:checkpoint_edit": page(
        "rounds:checkpoint_edit",
        ROUNDS_MANAGE_X,
        args=lambda c: [_rounds_checkpoint(c).id],
        data=lambda c, n: {"name": f"改名岗亭{_n(n)}", "is_active": "on"},
    ),
    "rounds:checkpoint_labels": Case(
        "GET",
        lambda c: (
            reverse("rounds:checkpoint_labels") + f"?layout=a4-3x8&ids={_rounds_checkpoint(c).id}"
        ),
        ROUNDS_VIEW_X,
    ),
    # --- equipment ledger attachments ---
    "ledger:attachment_upload": page(
        "ledger:attachment_upload",
        staff_may("facilities.manage"),
        args=lambda c: [_ledger_asset(c).id],
        data=lambda c, n: {
            "attachment-file": _ledger_pdf(f"合同{_n(n)}.pdf"),
            "attachment-description": "维保合同",
        },
    ),
    "ledger:attachment_download": page(
        "ledger:attachment_download",
        staff_may("facilities.view"),
        args=lambda c: [_ledger_attachment(c).id],
    ),
    "ledger:attachment_delete": page(
        "ledger:attachment_delete",
        staff_may("facilities.manage"),
        args=lambda c: [_ledger_attachment(c).id],
        data=lambda c, n: {},
    ),
    # --- fees console ---
    "billing:fee_item_list": page(
        "billing:fee_item_list",
        staff_may("billing.view"),
        target=lambda c: reverse("billing:fee_item_detail", args=[_fees(c)["area"].id]),
    ),
    "billing:fee_item_create": page(
        "billing:fee_item_create",
        staff_may("billing.manage"),
        data=lambda c, n: {
            "community": c.community_x.id,
            "code": f"item{_n(n)}",
            "name": f"垃圾清运费{_n(n)}",
            "kind": "fixed",
            "area_basis": "built",
            "cycle": "month",
            "due_days": "15",
            "unit_price": "20",
            "effective_from": "2030-01-01",
        },
    ),
    "billing:fee_item_detail": page(
        "billing:fee_item_detail", staff_may("billing.view"), args=lambda c: [_fees(c)["area"].id]
    ),
    "billing:fee_item_price": page(
        "billing:fee_item_price",
        staff_may("billing.manage"),
        args=lambda c: [_fees(c)["area"].id],
        data=lambda c, n: {"price-unit_price": "2.80", "price-effective_from": "2030-01-01"},
    ),
    "billing:run_list": page(
        "billing:run_list",
        staff_may("billing.view"),
        target=lambda c: reverse("billing:run_detail", args=[_fees(c)["run"].id]),
    ),
    "billing:run_create": page(
        "billing:run_create",
        staff_may("billing.manage"),
        data=lambda c, n: {
            "community": c.community_x.id,
            "period_kind": "month",
            "period_start": "2030-03-01",
        },
    ),
    "billing:run_detail": page(
        "billing:run_detail", staff_may("billing.view"), args=lambda c: [_fees(c)["run"].id]
    ),
    "billing:run_issue": page(
        "billing:run_issue",
        staff_may("billing.manage"),
        args=lambda c: [_fees(c)["run"].id],
        data=lambda c, n: {},
    ),
    # --- bill runs issued in the background: the progress partial the run page polls ---
    "billing:run_progress": page(
        "billing:run_progress", staff_may("billing.view"), args=lambda c: [_fees(c)["run"].id]
    ),
    "billing:bill_list": page(
        "billing:bill_list",
        staff_may("billing.view"),
        target=lambda c: reverse("billing:bill_detail", args=[_fees(c)["bill"].id]),
    ),
    "billing:bill_export": page("billing:bill_export", staff_has("billing.view")),
    "billing:bill_detail": page(
        "billing:bill_detail", staff_may("billing.view"), args=lambda c: [_fees(c)["bill"].id]
    ),
    "billing:adjustment_propose": page(
        "billing:adjustment_propose",
        staff_may("billing.manage"),
        args=lambda c: [_fees(c)["bill"].id],
        data=lambda c, n: {"adj-kind": "credit", "adj-amount": "1.00", "adj-reason": "减免"},
    ),
    # Proposed by finance, who may not decide it: a second person must.
    "billing:adjustment_decide": page(
        "billing:adjustment_decide",
        lambda n: staff_may("billing.manage")(n) and n != "finance",
        args=lambda c: [_fees(c)["bill"].id, _fees(c)["adjustment"].id, "approve"],
        data=lambda c, n: {},
    ),
    "billing:arrears": Case(
        "GET",
        lambda c: _fees(c) and reverse("billing:arrears") + "?as_of=2026-11-01",
        staff_may("billing.view"),
        target=lambda c: "¥88.00",
    ),
    "billing:arrears_export": page("billing:arrears_export", staff_has("billing.view")),
    "billing:reading_list": page(
        "billing:reading_list", staff_may("billing.view"), target=lambda c: _fees(c)["held"].value
    ),
    "billing:reading_create": page(
        "billing:reading_create",
        lambda n: staff_may("billing.view")(n) and staff_may("billing.meters")(n),
        data=lambda c, n: {
            "community": _fees(c) and c.community_x.id,
            "building": c.building_x1.id,
            "number": c.house_b.number,
            "fee_item": _fees(c)["water"].id,
            "reading_date": datetime.date.today().isoformat(),
            "value": "100.5",
        },
    ),
    "billing:reading_confirm": page(
        "billing:reading_confirm",
        staff_may("billing.manage"),
        args=lambda c: [_fees(c)["held"].id],
        data=lambda c, n: {},
    ),
    # --- resident bills ---
    # Resident A's own bill (_fees: the 88.00 repair bill of house A) and online order.
    "billing_resident:bill_list": page(
        "billing_resident:bill_list",
        only("resident_a"),
        target=lambda c: reverse("billing_resident:bill_detail", args=[_fees(c)["bill"].id]),
    ),
    "billing_resident:bill_detail": page(
        "billing_resident:bill_detail", only("resident_a"), args=lambda c: [_fees(c)["bill"].id]
    ),
    "billing_resident:pay": page(
        "billing_resident:pay",
        only("resident_a"),
        data=lambda c, n: {"bills": [_fees(c)["bill"].id]},
    ),
    "billing_resident:cashier": page(
        "billing_resident:cashier", only("resident_a"), args=lambda c: [_online_order(c)]
    ),
    "billing_resident:cashier_pay": page(
        "billing_resident:cashier_pay",
        only("resident_a"),
        args=lambda c: [_online_order(c)],
        data=lambda c, n: {},
    ),
    "billing_resident:cashier_cancel": page(
        "billing_resident:cashier_cancel",
        only("resident_a"),
        args=lambda c: [_online_order(c)],
        data=lambda c, n: {},
    ),
    "billing_resident:result": page(
        "billing_resident:result", only("resident_a"), args=lambda c: [_online_order(c)]
    ),
    # --- online orders: the resident who started one cancels it (runs-api) ---
    "billing_resident:order_cancel": page(
        "billing_resident:order_cancel",
        only("resident_a"),
        args=lambda c: [_online_order(c)],
        data=lambda c, n: {},
    ),
    "billing_resident:receipt": page(
        "billing_resident:receipt", only("resident_a"), args=lambda c: [_cashier(c)["payment"].id]
    ),
    # --- cashier console ---
    # House A's 50.00 cash payment taken by finance, with a 10.00 refund finance asked for.
    "cashier:search": Case(
        "GET",
        lambda c: reverse("cashier:search") + f"?community={c.community_x.id}&number=0101",
        staff_may("billing.collect"),
        target=lambda c: reverse("cashier:collect", args=[c.house_a.id]),
    ),
    "cashier:collect": page(
        "cashier:collect",
        staff_may("billing.collect"),
        args=lambda c: [c.house_a.id],
        data=lambda c, n: {"amount": "1.00", "method": "cash", "idempotency_key": f"m-{_n(n)}"},
    ),
    "cashier:statement": Case(
        "GET",
        lambda c: reverse("cashier:statement", args=[c.house_a.id]) + "?month=2026-11",
        staff_may("billing.collect"),
    ),
    "cashier:payments": page(
        "cashier:payments",
        staff_may("billing.collect"),
        target=lambda c: _cashier(c)["payment"].receipt_no,
    ),
    "cashier:payment_export": page("cashier:payment_export", staff_has("billing.collect")),
    "cashier:payment": page(
        "cashier:payment", staff_may("billing.collect"), args=lambda c: [_cashier(c)["payment"].id]
    ),
    "cashier:receipt": page(
        "cashier:receipt", staff_may("billing.collect"), args=lambda c: [_cashier(c)["payment"].id]
    ),
    "cashier:refund_request": page(
        "cashier:refund_request",
        staff_may("billing.collect"),
        args=lambda c: [_cashier(c)["payment"].id],
        data=lambda c, n: {"refund-amount": "1.00", "refund-reason": "矩阵"},
    ),
    # Requested by finance, who may not decide it: a second person must.
    "cashier:refund_decide": page(
        "cashier:refund_decide",
        lambda n: staff_may("billing.manage")(n) and n != "finance",
        args=lambda c: [_cashier(c)["payment"].id, _cashier(c)["refund"].id, "approve"],
        data=lambda c, n: {},
    ),
    "cashier:refunds": page(
        "cashier:refunds",
        staff_may("billing.collect"),
        target=lambda c: _cashier(c)["payment"].receipt_no,
    ),
}


# --- cashier console (helpers) ---
def _cashier(cast):
    """House A's 50.00 cash payment taken by finance (one per cell, by its idempotency key)
    and the 10.00 refund finance asked for."""
    from wuye.billing import payments
    from wuye.billing.models import Refund

    finance = cast.actor("finance")
    payment = payments.collect(
        actor=finance, house=cast.house_a, amount="50", method="cash", idempotency_key="matrix"
    )
    refund = Refund.objects.filter(payment=payment).first() or payments.request_refund(
        actor=finance, payment=payment, amount="10", reason="矩阵退款"
    )
    return {"payment": payment, "refund": refund}


def _online_order(cast) -> str:
    """The order number of resident A's online payment of their repair bill."""
    from wuye.billing import payments
    from wuye.billing.models import ProviderOrder

    bill = _fees(cast)["bill"]
    order = ProviderOrder.objects.filter(bill_ids=[bill.id]).first()
    if order is None:
        order, _params = payments.start_online_payment(
            actor=cast.actor("resident_a"), bill_ids=[bill.id]
        )
    return order.out_trade_no


# --- fees console (helpers) ---


def _fees(cast):
    """Community X's fees (made once per cell): a property fee with a run previewed for
    2030-04, a water meter with a reading of house A held for review (4321.09), and an
    88.00 one-off repair bill of house A due 2026-06-15 with a credit note proposed by
    finance."""
    from decimal import Decimal

    from wuye.billing import runs
    from wuye.billing import services as fees
    from wuye.billing.models import Adjustment, BillRun, FeeItem, MeterReading

    area = FeeItem.objects.filter(community=cast.community_x, code="matrix-wuye").first()
    if area is not None:
        water = FeeItem.objects.get(community=cast.community_x, code="matrix-water")
        adjustment = Adjustment.objects.get(reason="矩阵减免")
        return {
            "area": area,
            "water": water,
            "run": BillRun.objects.get(community=cast.community_x, period_start="2030-04-01"),
            "held": MeterReading.objects.get(fee_item=water, needs_review=True),
            "bill": adjustment.bill,
            "adjustment": adjustment,
        }
    finance = cast.actor("finance")

    def item(code, name, kind, price):
        return fees.create_fee_item(
            actor=finance,
            community=cast.community_x,
            code=code,
            name=name,
            kind=kind,
            unit_price=Decimal(price),
            effective_from=datetime.date(2026, 1, 1),
        )

    area = item("matrix-wuye", "矩阵物业费", "area", "2.35")
    water = item("matrix-water", "矩阵水费", "metered", "3.20")
    repair = item("matrix-repair", "矩阵维修费", "one_off", "88")
    MeterReading.objects.create(
        company=cast.company,
        community=cast.community_x,
        house=cast.house_a,
        fee_item=water,
        reading_date=datetime.date(2026, 1, 10),
        value=Decimal("4321.09"),
        previous=Decimal("1000.00"),
        needs_review=True,
    )
    bill = fees.charge_one_off(
        actor=finance, house=cast.house_a, fee_item=repair, on=datetime.date(2026, 5, 31)
    )
    runs.preview_run(
        actor=finance,
        period_kind="month",
        period_start=datetime.date(2030, 4, 1),
        community=cast.community_x,
    )
    fees.propose_adjustment(
        actor=finance, bill=bill, kind="credit", amount=Decimal("1.00"), reason="矩阵减免"
    )
    return _fees(cast)


# --- facilities reports (helpers) ---
def _report_url(cast, name, first_day):
    """A report of community X's pump round: from ``first_day`` to 2026-11-30."""
    _pump_round(cast)
    return reverse(f"facility_reports:{name}") + f"?date_from={first_day}&date_to=2026-11-30"


def _report_finding(cast):
    """An abnormal pressure reading (0.123 MPa) recorded on the pump round."""
    from wuye.facilities.models import Answer, Visit

    found = _pump_round(cast)
    visit, _ = Visit.objects.get_or_create(
        task=found["task"],
        stop=found["plan"].stops.get(),
        defaults={"scanned_at": found["task"].opens_at, "timing": "on_time"},
    )
    Answer.objects.get_or_create(
        visit=visit, item=found["pressure"], defaults={"value": "0.123", "is_abnormal": True}
    )
    return "0.123 MPa"


def _report_missed(cast):
    """The pump round, marked missed: the plan's name is on the overdue list."""
    from wuye.facilities.models import Task

    found = _pump_round(cast)
    Task.objects.filter(pk=found["task"].pk).update(status="missed")
    return found["plan"].name


# Pages anyone may open, signed in or not, and the sign-out action.
PUBLIC_PAGES = {
    "home",
    "healthz",
    "set_language",
    "accounts:login",
    "accounts:sms_login",
    "accounts:logout",
    "billing_notify:notify",  # signed by the provider; tests/test_billing_notify.py
}


def _roster_entry(cast):
    entry = RosterEntry.objects.filter(staff=cast.staff["technician"]).first()
    if entry is None:
        entry = RosterEntry.objects.create(
            staff=cast.staff["technician"],
            community=cast.community_x,
            date=datetime.date(2027, 1, 1),
            shift=Shift.objects.get(company=cast.company, name="早班"),
        )
    return entry


def _pump_round(cast) -> dict:
    """The technician's pump-room round in X for 2026-11-30 (tests/facility_helpers),
    made once per cell's rolled-back transaction, whichever of url/target asks first."""
    from tests.facility_helpers import make_pump_round
    from wuye.facilities.models import Task

    task = Task.objects.filter(plan__community=cast.community_x).select_related("plan").first()
    if task is None:
        return make_pump_round(cast, datetime.date(2026, 11, 30))
    plan = task.plan
    items = {i.position: i for i in plan.template.items.all()}
    return {
        "pump": plan.stops.get().asset,
        "pressure": items[1],
        "noise": items[2],
        "template": plan.template,
        "plan": plan,
        "task": task,
    }


def _checklist_form(cast) -> dict:
    """The round's checklist page posted with normal answers."""
    pump = _pump_round(cast)
    return {f"items[{pump['pressure'].pk}]": "0.45", f"items[{pump['noise'].pk}]": "normal"}


def _abnormal_answer(cast):
    """The pump round's noise answered abnormal (an item that opens no order by rule)."""
    from wuye.facilities import rounds

    pump = _pump_round(cast)
    visit = _fac_task(cast, "visited")
    if not visit.answers.exists():
        rounds.record_answers(
            actor=cast.actor("technician"),
            visit=visit,
            answers={pump["pressure"].pk: "0.45", pump["noise"].pk: False},
        )
    return visit.answers.get(item=pump["noise"])


def _wo(cast, state):
    """A work order of resident A's house in a given state, made anew in each cell's
    rolled-back transaction ("pool": accepted, grab mode, nobody holds it)."""
    from wuye.workorders import services as wo
    from wuye.workorders.models import Category

    def category(code):
        return Category.objects.get(company=cast.company, code=code)

    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=category("drain_blocked" if state == "pool" else "windows_glass"),
        house=cast.house_a,
        channel="resident_h5",
        description="矩阵工单",
    )
    if state == "submitted":
        return order
    order = wo.accept_order(actor=desk, order=order)
    if state == "pool":
        return order
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    if state == "dispatched":
        return order
    order = wo.take_order(actor=me, order=order)
    if state == "taken":
        return order
    if state == "paused":
        return wo.pause_order(actor=me, order=order, reason="等配件")
    order = wo.arrive(actor=me, order=order)
    if state == "in_progress":
        return order
    return wo.complete_order(actor=me, order=order, resolution="换了玻璃")


def _report_payload(cast, name):
    """Step 3 of the resident's report, for the acting resident's own house."""
    from wuye.workorders.models import Category

    resident = {"resident_a": "house_a", "resident_b": "house_b", "other_resident": "other_house"}
    house = getattr(cast, resident.get(name, "house_a"))
    category = Category.objects.get(company_id=house.company_id, code="taps_toilets")
    return {
        "category": category.id,
        "place": f"h{house.id}",
        "description": "水龙头漏水",
        "contact_name": "住户",
        "contact_mobile": "13800000001",
    }


def _category(cast, code):
    from wuye.workorders.models import Category

    return Category.objects.get(company=cast.company, code=code)


def _desk_order(cast, state):
    """A phone request the desk took for resident A's house (accepted at once; assign
    mode), or the same order completed by the technician."""
    from wuye.workorders import services as wo

    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.submit_order(
        actor=desk,
        category=_category(cast, "lighting"),
        house=cast.house_a,
        channel="phone",
        description="矩阵电话工单",
        contact_name="张伟",
        contact_mobile="13800000001",
    )
    if state == "accepted":
        return order
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.arrive(actor=me, order=wo.take_order(actor=me, order=order))
    return wo.complete_order(actor=me, order=order, resolution="换了灯泡")


def _request_category(cast, code):
    from wuye.workorders.models import Category

    return Category.objects.get(company=cast.company, code=code)


def _api_order(cast, state):
    """Resident A's windows order (grab mode, paid) in ``state``, found again by its
    description within a cell, so a list's URL and its target name the same order."""
    from wuye.workorders import services as wo
    from wuye.workorders.models import WorkOrder

    marker = f"接口矩阵 {state}"
    order = WorkOrder.objects.filter(description=marker).first()
    if order is not None:
        return order
    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=_request_category(cast, "windows_glass"),
        house=cast.house_a,
        channel="api",
        description=marker,
    )
    steps = {
        "accepted": lambda o: wo.accept_order(actor=desk, order=o),
        "dispatched": lambda o: wo.dispatch_order(
            actor=desk, order=o, assignee=cast.staff["technician"]
        ),
        "taken": lambda o: wo.take_order(actor=me, order=o),
        "paused": lambda o: wo.pause_order(actor=me, order=o, reason="等配件"),
        "in_progress": lambda o: wo.arrive(actor=me, order=o),
        "completed": lambda o: wo.complete_order(actor=me, order=o, resolution="换了玻璃"),
    }
    before = {"submitted": [], "paused": ["accepted", "dispatched", "taken", "paused"]}
    path = ["accepted", "dispatched", "taken", "in_progress", "completed"]
    for step in before[state] if state in before else path[: path.index(state) + 1]:
        order = steps[step](order)
    return order


def _api_complaint(cast):
    """A phone complaint about the guard that the desk accepted at once."""
    from wuye.workorders import services as wo

    return wo.submit_order(
        actor=cast.actor("dispatcher"),
        category=_request_category(cast, "service_attitude"),
        house=cast.house_a,
        channel="phone",
        description="矩阵投诉",
        contact_name="张伟",
        contact_mobile="13800000001",
        complaint={"party_kind": "staff", "party_staff": cast.staff["guard"], "demand": "道歉"},
    )


def _api_rated(cast):
    from wuye.workorders import services as wo

    order = _api_order(cast, "completed")
    if order.status != "completed":
        return order  # rated already, for this row
    return wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5)


def _import_job(cast):
    job = ImportJob.objects.filter(community=cast.community_x).first()
    if job is None:
        book = openpyxl.Workbook()
        book.active.title = workbook.SHEET
        book.active.append(list(workbook.HEADERS))
        book.active.append(["1栋", "1单元", None, 1, 50])  # 房号 missing
        content = io.BytesIO()
        book.save(content)
        job = ImportJob(
            company=cast.company,
            community=cast.community_x,
            actor=cast.users["project_manager"],
            original_name="houses.xlsx",
            status=ImportJob.Status.FAILED,
        )
        job.file.save("houses.xlsx", ContentFile(content.getvalue()), save=False)
        job.save()
    return job


def _dispatcher_notification(cast):
    """An unread notification of the dispatcher's; only they may list or read it."""
    from wuye.notifications.models import Notification

    note, _created = Notification.objects.get_or_create(
        recipient=cast.users["dispatcher"],
        dedupe_key="matrix",
        defaults={"kind": "workorder.dispatched", "title": "矩阵派单通知"},
    )
    return note


def _unread_notification(cast, name) -> dict:
    """Give the acting user an unread notification, so marking all read changes something;
    no payload."""
    from wuye.notifications.models import Notification

    if name is not None:
        Notification.objects.create(
            recipient=cast.users[name], kind="test.matrix", title="未读", dedupe_key="unread"
        )
    return {}


def _jpeg_upload(name="photo.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (480, 400), (200, 120, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _order_photo(cast):
    """Resident A's photo, attached to their request for their house in community X."""
    from wuye.accounts.actor import Actor
    from wuye.core.images import save_photo
    from wuye.workorders import services as wo
    from wuye.workorders.models import WorkOrderEvent

    event = WorkOrderEvent.objects.filter(order__description="照片矩阵", type="submitted").first()
    if event is not None:
        return event.photos.get()
    me = Actor(cast.users["resident_a"])
    photo = save_photo(actor=me, uploaded=_jpeg_upload(), company=cast.company)
    wo.submit_order(
        actor=me,
        category=_category(cast, "windows_glass"),
        house=cast.house_a,
        channel="resident_h5",
        description="照片矩阵",
        photos=[photo],
    )
    return photo


def _dispatcher_token(cast):
    from wuye.accounts.actor import Actor
    from wuye.accounts.models import ApiToken

    token = ApiToken.objects.filter(user=cast.users["dispatcher"]).first()
    if token is None:
        token, _secret = create_api_token(actor=Actor(cast.users["dispatcher"]), name="脚本")
    return token


# --- facilities API (helpers) ---
FAC_PLACES_X = either(
    *(staff_may(p) for p in ("facilities.view", "facilities.manage", "facilities.work"))
)
FAC_OFFICE_X = either(staff_may("facilities.view"), staff_may("facilities.manage"))
FAC_MANAGE_X = staff_may("facilities.manage")
FAC_TASK_X = either(FAC_OFFICE_X, only("technician"))  # overseers and the assignee


def _fac_scan_today(cast) -> dict:
    """The pump round moved to today (the API scans now), as the scan body."""
    from django.utils import timezone

    from wuye.facilities.models import Task

    pump = _pump_round(cast)
    Task.objects.filter(pk=pump["task"].pk).update(date=timezone.localdate())
    return {"code": pump["pump"].qr_token}


def _fac_task(cast, stage: str):
    """The pump round's task checked in ("visited"), answered, or finished awaiting
    acceptance ("awaiting"), through the services."""
    from wuye.facilities import rounds

    pump = _pump_round(cast)
    me, task = cast.actor("technician"), pump["task"]
    visit = task.visits.first()
    if visit is None:
        when = datetime.datetime(
            2026, 11, 30, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
        )
        visit = rounds.scan(actor=me, token=pump["pump"].qr_token, at=when)
    if stage in ("answered", "awaiting") and not visit.answers.exists():
        rounds.record_answers(actor=me, visit=visit, answers=_fac_answers(pump))
    if stage == "awaiting" and task.status != "awaiting_acceptance":
        pump["plan"].requires_acceptance = True
        pump["plan"].save(update_fields=["requires_acceptance"])
        rounds.finish(actor=me, task=task)
    return visit if stage == "visited" else task


def _fac_answers(pump) -> dict:
    return {pump["pressure"].pk: "0.45", pump["noise"].pk: True}


def _fac_certificate(cast):
    from wuye.facilities.models import Certificate

    pump = _pump_round(cast)["pump"]
    return Certificate.objects.get_or_create(
        asset=pump, kind="water", defaults={"expires_on": datetime.date(2027, 1, 31)}
    )[0]


# --- billing API (rules) ---
BILLING_VIEW_X = staff_may("billing.view")
BILL_OF_A = either(BILLING_VIEW_X, only("resident_a"))  # house A's bills and payments


# --- API operations -----------------------------------------------------------------
def op(method, path, allowed, *, data=None, target=None, multipart=False):
    return Case(method, path, allowed, data, target, multipart)


def _api(path):
    return lambda cast: "/api/v1" + path(cast)


API: dict[str, Case] = {
    "wuye_estates_api_list_companies": op(
        "GET",
        _api(lambda c: "/companies"),
        either(company_a_staff, X_RESIDENTS),
        target=lambda c: c.company.id,
    ),
    "wuye_estates_api_get_company": op(
        "GET",
        _api(lambda c: f"/companies/{c.company.id}"),
        either(company_a_staff, X_RESIDENTS),
    ),
    "wuye_estates_api_list_communities": op(
        "GET",
        _api(lambda c: "/communities"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
        target=lambda c: c.community_x.id,
    ),
    "wuye_estates_api_get_community": op(
        "GET",
        _api(lambda c: f"/communities/{c.community_x.id}"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
    ),
    "wuye_estates_api_create_community": op(
        "POST",
        _api(lambda c: "/communities"),
        staff_has("estates.manage", company_wide_only=True),
        data=lambda c, n: {"name": f"接口项目{_n(n)}", "code": f"api{_n(n)}"},
    ),
    "wuye_estates_api_update_community": op(
        "PATCH",
        _api(lambda c: f"/communities/{c.community_x.id}"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"service_phone": f"0571-8888{_n(n):04d}"},
    ),
    "wuye_estates_api_list_buildings": op(
        "GET",
        _api(lambda c: "/buildings"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
        target=lambda c: c.building_x1.id,
    ),
    "wuye_estates_api_get_building": op(
        "GET",
        _api(lambda c: f"/buildings/{c.building_x1.id}"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
    ),
    "wuye_estates_api_create_building": op(
        "POST",
        _api(lambda c: "/buildings"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"community_id": c.community_x.id, "name": f"接口{_n(n)}栋"},
    ),
    "wuye_estates_api_update_building": op(
        "PATCH",
        _api(lambda c: f"/buildings/{c.building_x1.id}"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"floors_above": 10 + _n(n)},
    ),
    "wuye_estates_api_list_units": op(
        "GET",
        _api(lambda c: "/units"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
        target=lambda c: c.unit_x1.id,
    ),
    "wuye_estates_api_get_unit": op(
        "GET", _api(lambda c: f"/units/{c.unit_x1.id}"), either(ESTATE_VIEW_X, X_RESIDENTS)
    ),
    "wuye_estates_api_create_unit": op(
        "POST",
        _api(lambda c: "/units"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"building_id": c.building_x1.id, "name": f"接口{_n(n)}单元"},
    ),
    "wuye_estates_api_update_unit": op(
        "PATCH",
        _api(lambda c: f"/units/{c.unit_x1.id}"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"sort_order": 10 + _n(n)},
    ),
    "wuye_estates_api_list_houses": op(
        "GET",
        _api(lambda c: "/houses"),
        either(ESTATE_VIEW_X, only("resident_a")),
        target=lambda c: c.house_a.id,
    ),
    "wuye_estates_api_get_house": op(
        "GET", _api(lambda c: f"/houses/{c.house_a.id}"), either(ESTATE_VIEW_X, only("resident_a"))
    ),
    "wuye_estates_api_create_house": op(
        "POST",
        _api(lambda c: "/houses"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {
            "building_id": c.building_x1.id,
            "unit_id": c.unit_x1.id,
            "number": f"8{_n(n):03d}",
            "floor": 8,
            "built_area": "90.00",
        },
    ),
    "wuye_estates_api_update_house": op(
        "PATCH",
        _api(lambda c: f"/houses/{c.house_a.id}"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"built_area": f"{100 + _n(n)}.00"},
    ),
    "wuye_estates_api_list_common_areas": op(
        "GET",
        _api(lambda c: "/common-areas"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
        target=lambda c: c.community_x.common_areas.get().id,
    ),
    "wuye_estates_api_get_common_area": op(
        "GET",
        _api(lambda c: f"/common-areas/{c.community_x.common_areas.get().id}"),
        either(ESTATE_VIEW_X, X_RESIDENTS),
    ),
    "wuye_estates_api_create_common_area": op(
        "POST",
        _api(lambda c: "/common-areas"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"community_id": c.community_x.id, "name": f"接口花园{_n(n)}"},
    ),
    "wuye_estates_api_update_common_area": op(
        "PATCH",
        _api(lambda c: f"/common-areas/{c.community_x.common_areas.get().id}"),
        ESTATE_MANAGE_X,
        data=lambda c, n: {"description": f"说明{_n(n)}"},
    ),
    "wuye_people_api_list_residents": op(
        "GET",
        _api(lambda c: "/residents"),
        either(PEOPLE_VIEW_X, only("resident_a")),
        target=lambda c: c.resident_a.id,
    ),
    "wuye_people_api_get_resident": op(
        "GET",
        _api(lambda c: f"/residents/{c.resident_a.id}"),
        either(PEOPLE_VIEW_X, only("resident_a")),
    ),
    "wuye_people_api_create_resident": op(
        "POST",
        _api(lambda c: "/residents"),
        PEOPLE_MANAGE_X,
        data=lambda c, n: {
            "name": f"接口住户{_n(n)}",
            "mobile": f"1350000{_n(n):04d}",
            "house_id": c.house_a.id,
            "relation": "family",
        },
    ),
    "wuye_people_api_update_resident": op(
        "PATCH",
        _api(lambda c: f"/residents/{c.resident_a.id}"),
        PEOPLE_MANAGE_X,
        data=lambda c, n: {"note": f"备注{_n(n)}"},
    ),
    "wuye_people_api_list_residencies": op(
        "GET",
        _api(lambda c: "/residencies"),
        either(PEOPLE_VIEW_X, only("resident_a")),
        target=lambda c: c.resident_a.residencies.get().id,
    ),
    "wuye_people_api_get_residency": op(
        "GET",
        _api(lambda c: f"/residencies/{c.resident_a.residencies.get().id}"),
        either(PEOPLE_VIEW_X, only("resident_a")),
    ),
    "wuye_people_api_move_in": op(
        "POST",
        _api(lambda c: "/residencies"),
        PEOPLE_MANAGE_X,
        data=lambda c, n: {
            "resident_id": c.resident_a.id,
            "house_id": c.house_b.id,
            "relation": "family",
        },
    ),
    "wuye_people_api_move_out": op(
        "POST",
        _api(lambda c: f"/residencies/{c.resident_b.residencies.get().id}/move-out"),
        PEOPLE_MANAGE_X,
        data=lambda c, n: {"move_out": "2026-06-01"},
    ),
    "wuye_staff_api_list_roles": op(
        "GET",
        _api(lambda c: "/roles"),
        company_a_staff,
        target=lambda c: Role.objects.get(company=c.company, code="guard").id,
    ),
    "wuye_staff_api_get_role": op(
        "GET",
        _api(lambda c: f"/roles/{Role.objects.get(company=c.company, code='guard').id}"),
        company_a_staff,
    ),
    "wuye_staff_api_update_role": op(
        "PUT",
        _api(lambda c: f"/roles/{Role.objects.get(company=c.company, code='guard').id}"),
        staff_may("staff.manage", company_wide_only=True),
        data=lambda c, n: {
            "name": f"保安{_n(n)}",
            "company_wide": False,
            "permissions": ["estates.view"],
        },
    ),
    "wuye_staff_api_list_trades": op(
        "GET",
        _api(lambda c: "/trades"),
        company_a_staff,
        target=lambda c: c.company.trades.first().id,
    ),
    "wuye_staff_api_list_shifts": op(
        "GET",
        _api(lambda c: "/shifts"),
        company_a_staff,
        target=lambda c: Shift.objects.get(company=c.company, name="早班").id,
    ),
    "wuye_staff_api_get_shift": op(
        "GET",
        _api(lambda c: f"/shifts/{Shift.objects.get(company=c.company, name='早班').id}"),
        company_a_staff,
    ),
    "wuye_staff_api_create_shift": op(
        "POST",
        _api(lambda c: "/shifts"),
        staff_has("staff.manage"),
        data=lambda c, n: {"name": f"接口班{_n(n)}", "start_time": "07:00", "end_time": "15:00"},
    ),
    "wuye_staff_api_list_staff": op(
        "GET",
        _api(lambda c: "/staff"),
        either(STAFF_VIEW_X, only("guard")),
        target=lambda c: c.staff["guard"].id,
    ),
    "wuye_staff_api_get_staff_member": op(
        "GET",
        _api(lambda c: f"/staff/{c.staff['guard'].id}"),
        either(STAFF_VIEW_X, only("guard")),
    ),
    "wuye_staff_api_create_staff_member": op(
        "POST",
        _api(lambda c: "/staff"),
        STAFF_MANAGE_X,
        data=lambda c, n: {
            "username": f"api.staff{_n(n)}",
            "name": f"接口员工{_n(n)}",
            "employee_no": f"A{_n(n)}",
            "role_ids": [Role.objects.get(company=c.company, code="cleaner").id],
            "community_ids": [c.community_x.id],
        },
    ),
    "wuye_staff_api_set_duty_status": op(
        "POST",
        _api(lambda c: f"/staff/{c.staff['guard'].id}/duty"),
        either(STAFF_MANAGE_X, only("guard")),
        data=lambda c, n: {"status": "off_duty"},
    ),
    "wuye_staff_api_list_roster": op(
        "GET",
        _api(lambda c: "/roster"),
        either(STAFF_VIEW_X, only("technician")),
        target=lambda c: _roster_entry(c).id,
    ),
    "wuye_staff_api_get_roster_entry": op(
        "GET",
        _api(lambda c: f"/roster/{_roster_entry(c).id}"),
        either(STAFF_VIEW_X, only("technician")),
    ),
    "wuye_staff_api_create_roster_entry": op(
        "POST",
        _api(lambda c: "/roster"),
        STAFF_MANAGE_X,
        data=lambda c, n: {
            "staff_id": c.staff["technician"].id,
            "community_id": c.community_x.id,
            "date": _week_day(_n(n)),
            "shift_id": Shift.objects.get(company=c.company, name="早班").id,
        },
    ),
    "wuye_staff_api_delete_roster_entry": op(
        "DELETE",
        _api(lambda c: f"/roster/{_roster_entry(c).id}"),
        STAFF_MANAGE_X,
        data=lambda c, n: {},
    ),
    "wuye_accounts_api_me": op("GET", _api(lambda c: "/me"), anyone_signed_in),
    "wuye_accounts_api_list_tokens": op(
        "GET",
        _api(lambda c: "/tokens"),
        only("dispatcher"),
        target=lambda c: _dispatcher_token(c).id,
    ),
    "wuye_accounts_api_get_token": op(
        "GET", _api(lambda c: f"/tokens/{_dispatcher_token(c).id}"), only("dispatcher")
    ),
    "wuye_accounts_api_create_token": op(
        "POST",
        _api(lambda c: "/tokens"),
        anyone_signed_in,
        data=lambda c, n: {"name": f"令牌{_n(n)}"},
    ),
    "wuye_accounts_api_revoke_token": op(
        "POST",
        _api(lambda c: f"/tokens/{_dispatcher_token(c).id}/revoke"),
        only("dispatcher"),
        data=lambda c, n: {},
    ),
    "wuye_notifications_api_list_notifications": op(
        "GET",
        _api(lambda c: "/notifications"),
        only("dispatcher"),
        target=lambda c: _dispatcher_notification(c).id,
    ),
    "wuye_notifications_api_unread_count": op(
        "GET", _api(lambda c: "/notifications/unread-count"), anyone_signed_in
    ),
    "wuye_notifications_api_mark_read": op(
        "POST",
        _api(lambda c: f"/notifications/{_dispatcher_notification(c).id}/read"),
        only("dispatcher"),
        data=lambda c, n: {},
    ),
    "wuye_notifications_api_mark_all_read": op(
        "POST",
        _api(lambda c: "/notifications/read-all"),
        anyone_signed_in,
        data=_unread_notification,
    ),
    # photos: anyone with a company (staff, residents) uploads for it; "nobody" has none
    "wuye_core_api_photos_upload_photo": op(
        "POST",
        _api(lambda c: "/photos"),
        lambda name: name not in (None, "nobody"),
        data=lambda c, n: {"file": _jpeg_upload()},
        multipart=True,
    ),
    # work orders (the target is resident A's order in community X)
    "wuye_workorders_api_list_request_categories": op(
        "GET",
        _api(lambda c: "/request-categories"),
        either(company_a_staff, X_RESIDENTS),
        target=lambda c: _request_category(c, "doors_windows").id,
    ),
    "wuye_workorders_api_list_work_orders": op(
        "GET",
        _api(lambda c: "/work-orders"),
        ORDER_VIEW_X,
        target=lambda c: _api_order(c, "submitted").id,
    ),
    "wuye_workorders_api_submit_work_order": op(
        "POST",
        _api(lambda c: "/work-orders"),
        either(staff_may("workorders.create"), only("resident_a")),
        data=lambda c, n: {
            "category_id": _request_category(c, "windows_glass").id,
            "house_id": c.house_a.id,
            "description": f"接口报修{_n(n)}",
            "channel": "phone",
            "contact_name": "张伟",
            "contact_mobile": "13800000001",
        },
    ),
    "wuye_workorders_api_resolve_work_order": op(
        "POST",
        _api(lambda c: f"/work-orders/{_api_complaint(c).id}/resolve"),
        COMPLAINTS_X,
        data=lambda c, n: {"resolution": "已当面道歉", "root_cause": "attitude"},
    ),
    "wuye_workorders_api_record_work_order_root_cause": op(
        "POST",
        _api(lambda c: f"/work-orders/{_api_complaint(c).id}/root-cause"),
        COMPLAINTS_X,
        data=lambda c, n: {"root_cause": "attitude"},
    ),
    "wuye_workorders_api_reply_to_work_order_rating": op(
        "POST",
        _api(lambda c: f"/work-orders/{_api_rated(c).id}/reply"),
        DISPATCH_X,
        data=lambda c, n: {"reply": "感谢您的评价"},
    ),
    "wuye_workorders_api_get_work_order": op(
        "GET", _api(lambda c: f"/work-orders/{_api_order(c, 'submitted').id}"), ORDER_VIEW_X
    ),
    "wuye_workorders_api_list_work_order_events": op(
        "GET", _api(lambda c: f"/work-orders/{_api_order(c, 'submitted').id}/events"), ORDER_VIEW_X
    ),
    **{
        f"wuye_workorders_api_{name}_work_order": op(
            "POST",
            _api(
                lambda c, state=state, path=path: f"/work-orders/{_api_order(c, state).id}/{path}"
            ),
            allowed,
            data=data,
        )
        for name, path, state, allowed, data in [
            ("accept", "accept", "submitted", DISPATCH_X, lambda c, n: {}),
            (
                "dispatch",
                "dispatch",
                "accepted",
                DISPATCH_X,
                lambda c, n: {"assignee_id": c.staff["technician"].id},
            ),
            ("grab", "grab", "accepted", staff_may("workorders.work"), lambda c, n: {}),
            ("take", "take", "dispatched", only("technician"), lambda c, n: {}),
            (
                "return",
                "return",
                "dispatched",
                either(only("technician"), DISPATCH_X),
                lambda c, n: {"reason": "不是我的工种"},
            ),
            (
                "transfer",
                "transfer",
                "dispatched",
                either(only("technician"), DISPATCH_X),
                lambda c, n: {"assignee_id": c.staff["guard"].id, "reason": "换人"},
            ),
            ("arrive", "arrive", "taken", only("technician"), lambda c, n: {}),
            ("pause", "pause", "taken", only("technician"), lambda c, n: {"reason": "等配件"}),
            ("resume", "resume", "paused", either(only("technician"), DISPATCH_X), lambda c, n: {}),
            (
                "complete",
                "complete",
                "in_progress",
                only("technician"),
                lambda c, n: {
                    "resolution": "换了玻璃",
                    "materials": [{"name": "玻璃", "quantity": "1", "unit_price": "80"}],
                    "labour_amount": "50",
                },
            ),
            ("rate", "rate", "completed", only("resident_a"), lambda c, n: {"overall": 5}),
            (
                "return_visit",
                "return-visit",
                "completed",
                DISPATCH_X,
                lambda c, n: {"satisfied": True},
            ),
            (
                "reopen",
                "reopen",
                "completed",
                either(only("resident_a"), DISPATCH_X),
                lambda c, n: {"reason": "又坏了"},
            ),
            (
                "cancel",
                "cancel",
                "submitted",
                either(only("resident_a"), DISPATCH_X),
                lambda c, n: {"reason": "不需要了"},
            ),
            ("reject", "reject", "submitted", DISPATCH_X, lambda c, n: {"reason": "重复报修"}),
            ("urge", "urge", "submitted", only("resident_a"), lambda c, n: {"note": "快点"}),
        ]
    },
    # --- facilities API ---
    "wuye_facilities_api_list_assets": op(
        "GET",
        _api(lambda c: "/facilities/assets"),
        FAC_PLACES_X,
        target=lambda c: _pump_round(c)["pump"].id,
    ),
    "wuye_facilities_api_get_asset": op(
        "GET", _api(lambda c: f"/facilities/assets/{_pump_round(c)['pump'].id}"), FAC_PLACES_X
    ),
    "wuye_facilities_api_create_asset": op(
        "POST",
        _api(lambda c: "/facilities/assets"),
        FAC_MANAGE_X,
        data=lambda c, n: {
            "community_id": c.community_x.id,
            "category_id": c.company.asset_categories.get(code="water_pump").id,
            "name": f"接口水泵{_n(n)}",
        },
    ),
    "wuye_facilities_api_change_asset_status": op(
        "POST",
        _api(lambda c: f"/facilities/assets/{_pump_round(c)['pump'].id}/status"),
        FAC_MANAGE_X,
        data=lambda c, n: {"status": "stopped", "reason": "检修"},
    ),
    "wuye_facilities_api_list_certificates": op(
        "GET",
        _api(lambda c: "/facilities/certificates"),
        FAC_PLACES_X,
        target=lambda c: _fac_certificate(c).id,
    ),
    "wuye_facilities_api_list_plans": op(
        "GET",
        _api(lambda c: "/facilities/plans"),
        FAC_OFFICE_X,
        target=lambda c: _pump_round(c)["plan"].id,
    ),
    "wuye_facilities_api_get_plan": op(
        "GET", _api(lambda c: f"/facilities/plans/{_pump_round(c)['plan'].id}"), FAC_OFFICE_X
    ),
    "wuye_facilities_api_list_tasks": op(
        "GET",
        _api(lambda c: "/facilities/tasks?date=2026-11-30"),
        FAC_TASK_X,
        target=lambda c: _pump_round(c)["task"].id,
    ),
    "wuye_facilities_api_get_task": op(
        "GET", _api(lambda c: f"/facilities/tasks/{_pump_round(c)['task'].id}"), FAC_TASK_X
    ),
    "wuye_facilities_api_scan": op(
        "POST",
        _api(lambda c: "/facilities/scan"),
        only("technician"),
        data=lambda c, n: _fac_scan_today(c),
    ),
    "wuye_facilities_api_answer_visit": op(
        "POST",
        _api(lambda c: f"/facilities/visits/{_fac_task(c, 'visited').id}/answers"),
        only("technician"),
        data=lambda c, n: {"answers": _fac_answers(_pump_round(c))},
    ),
    "wuye_facilities_api_finish_task": op(
        "POST",
        _api(lambda c: f"/facilities/tasks/{_fac_task(c, 'answered').id}/finish"),
        only("technician"),
        data=lambda c, n: {},
    ),
    "wuye_facilities_api_accept_task": op(
        "POST",
        _api(lambda c: f"/facilities/tasks/{_fac_task(c, 'awaiting').id}/accept"),
        FAC_MANAGE_X,
        data=lambda c, n: {},
    ),
    # --- emergencies ---
    "wuye_incidents_api_list_incidents": op(
        "GET", _api(lambda c: "/incidents"), INCIDENT_X, target=lambda c: _incident(c).id
    ),
    "wuye_incidents_api_report_incident": op(
        "POST",
        _api(lambda c: "/incidents"),
        staff_may("incidents.report"),
        data=lambda c, n: {
            "community_id": c.community_x.id,
            "kind": "power_outage",
            "description": f"停电{_n(n)}",
            "tell_residents": False,
        },
    ),
    "wuye_incidents_api_get_incident": op(
        "GET", _api(lambda c: f"/incidents/{_incident(c).id}"), INCIDENT_X
    ),
    "wuye_incidents_api_post_incident_update": op(
        "POST",
        _api(lambda c: f"/incidents/{_incident(c).id}/updates"),
        INCIDENT_X,
        data=lambda c, n: {"note": f"进展{_n(n)}"},
    ),
    "wuye_incidents_api_transition_incident": op(
        "POST",
        _api(lambda c: f"/incidents/{_incident(c).id}/transitions"),
        staff_may("incidents.manage"),
        data=lambda c, n: {"action": "resolve", "note": f"已恢复{_n(n)}"},
    ),
    # --- billing API ---
    "wuye_billing_api_list_fee_items": op(
        "GET",
        _api(lambda c: "/billing/fee-items"),
        either(BILLING_VIEW_X, X_RESIDENTS),  # residents: the published price list
        target=lambda c: _fees(c)["area"].id,
    ),
    "wuye_billing_api_list_bills": op(
        "GET", _api(lambda c: "/billing/bills"), BILL_OF_A, target=lambda c: _fees(c)["bill"].id
    ),
    "wuye_billing_api_get_bill": op(
        "GET", _api(lambda c: f"/billing/bills/{_fees(c)['bill'].id}"), BILL_OF_A
    ),
    "wuye_billing_api_list_arrears": op(
        "GET",
        _api(lambda c: _fees(c) and "/billing/arrears?as_of=2026-11-01"),
        BILLING_VIEW_X,
        target=lambda c: c.community_x.id,
    ),
    "wuye_billing_api_collect_payment": op(
        "POST",
        _api(lambda c: "/billing/payments"),
        staff_may("billing.collect"),
        data=lambda c, n: {"house_id": c.house_a.id, "amount": "10.00", "method": "cash"},
    ),
    "wuye_billing_api_list_payments": op(
        "GET", _api(lambda c: "/billing/payments"), BILL_OF_A, target=lambda c: _bill_payment(c).id
    ),
    "wuye_billing_api_get_payment": op(
        "GET", _api(lambda c: f"/billing/payments/{_bill_payment(c).id}"), BILL_OF_A
    ),
    "wuye_billing_api_start_online_payment": op(
        "POST",
        _api(lambda c: "/billing/online-payments"),
        only("resident_a"),
        data=lambda c, n: {"bill_ids": [_fees(c)["bill"].id]},
    ),
    "wuye_billing_api_record_meter_reading": op(
        "POST",
        _api(lambda c: "/billing/meter-readings"),
        staff_may("billing.meters"),  # field staff read meters without seeing bills
        data=lambda c, n: {
            "house_id": c.house_b.id,
            "fee_item_id": _fees(c)["water"].id,
            "reading_date": datetime.date.today().isoformat(),
            "value": "100.5",
        },
    ),
    "wuye_billing_api_list_runs": op(
        "GET",
        _api(lambda c: "/billing/runs"),
        BILLING_VIEW_X,
        target=lambda c: _fees(c)["run"].id,
    ),
    "wuye_billing_api_preview_run": op(
        "POST",
        _api(lambda c: "/billing/runs"),
        staff_may("billing.manage"),
        data=lambda c, n: {
            "community_id": _fees(c)["area"].community_id,
            "period_kind": "month",
            "period_start": "2030-05-01",
        },
    ),
    "wuye_billing_api_get_run": op(
        "GET", _api(lambda c: f"/billing/runs/{_fees(c)['run'].id}"), BILLING_VIEW_X
    ),
    "wuye_billing_api_issue_run": op(
        "POST",
        _api(lambda c: f"/billing/runs/{_fees(c)['run'].id}/issue"),
        staff_may("billing.manage"),
        data=lambda c, n: {},
    ),
    # --- billing API, money after the bill (api_money): refunds, adjustments, collection
    # rate, receipts, cancelling an online order. Refund and adjustment: finance asked.
    "wuye_billing_api_money_list_refunds": op(
        "GET",
        _api(lambda c: "/billing/refunds"),
        BILL_OF_A,
        target=lambda c: _cashier(c)["refund"].id,
    ),
    "wuye_billing_api_money_request_refund": op(
        "POST",
        _api(lambda c: f"/billing/payments/{_cashier(c)['payment'].id}/refunds"),
        staff_may("billing.collect"),
        data=lambda c, n: {"amount": "1.00", "reason": "矩阵"},
    ),
    **{
        f"wuye_billing_api_money_{decision}_refund": op(
            "POST",
            _api(lambda c, d=decision: f"/billing/refunds/{_cashier(c)['refund'].id}/{d}"),
            lambda n: staff_may("billing.manage")(n) and n != "finance",
            data=lambda c, n: {},
        )
        for decision in ("approve", "reject")
    },
    "wuye_billing_api_money_list_adjustments": op(
        "GET", _api(lambda c: f"/billing/bills/{_fees(c)['bill'].id}/adjustments"), BILL_OF_A
    ),
    "wuye_billing_api_money_propose_adjustment": op(
        "POST",
        _api(lambda c: f"/billing/bills/{_fees(c)['bill'].id}/adjustments"),
        staff_may("billing.manage"),
        data=lambda c, n: {"kind": "credit", "amount": "1.00", "reason": "矩阵"},
    ),
    **{
        f"wuye_billing_api_money_{decision}_adjustment": op(
            "POST",
            _api(lambda c, d=decision: f"/billing/adjustments/{_fees(c)['adjustment'].id}/{d}"),
            lambda n: staff_may("billing.manage")(n) and n != "finance",
            data=lambda c, n: {},
        )
        for decision in ("approve", "reject")
    },
    # Each viewer gets their own communities' figures.
    "wuye_billing_api_money_collection_rate": op(
        "GET",
        _api(lambda c: "/billing/collection-rate?month_from=2026-05-01&month_to=2026-07-31"),
        staff_has("billing.view"),
    ),
    "wuye_billing_api_money_payment_receipt": op(
        "GET", _api(lambda c: f"/billing/payments/{_bill_payment(c).id}/receipt"), BILL_OF_A
    ),
    "wuye_billing_api_money_cancel_online_payment": op(
        "POST",
        _api(lambda c: f"/billing/online-payments/{_online_order_id(c)}/cancel"),
        only("resident_a"),
        data=lambda c, n: {},
    ),
}


# --- billing API (helpers) ---
def _online_order_id(cast) -> int:
    from wuye.billing.models import ProviderOrder

    return ProviderOrder.objects.get(out_trade_no=_online_order(cast)).id


def _bill_payment(cast):
    """10.00 in cash for house A, taken by finance (once per cell)."""
    from decimal import Decimal

    from wuye.billing import payments
    from wuye.billing.models import Payment

    found = Payment.objects.filter(house=cast.house_a, reference="matrix").first()
    return found or payments.collect(
        actor=cast.actor("finance"),
        house=cast.house_a,
        amount=Decimal("10.00"),
        method="cash",
        reference="matrix",
    )


# Sign-in endpoints are open by design (and throttled); covered in test_api_auth.
PUBLIC_OPERATIONS = {"wuye_accounts_api_issue_token", "wuye_accounts_api_request_sms_code"}


# --- 收支公示 (income and expense reports): console, resident H5, API ---
def _disclosures(cast) -> dict:
    """Community X's reports (once per cell): a 10.00 deposit received on 1 February 2026;
    a draft for Q1 2026 with one expense line, and a report for Q4 2025, published."""
    from wuye.billing import disclosures, payments
    from wuye.billing.models import Disclosure

    found = Disclosure.objects.filter(community=cast.community_x, title="矩阵草稿").first()
    if found is not None:
        return {
            "draft": found,
            "line": found.lines.get(side="expense"),
            "published": Disclosure.objects.get(title="矩阵公示"),
        }
    finance = cast.actor("finance")
    payments.collect(
        actor=finance,
        house=cast.house_a,
        amount="10",
        method="cash",
        bill_ids=[],
        idempotency_key="matrix-disclosure",
        at=datetime.datetime(2026, 2, 1, 10, 0, tzinfo=datetime.UTC),
    )

    def report(first, last, title):
        return disclosures.create_draft(
            actor=finance,
            community=cast.community_x,
            period_start=first,
            period_end=last,
            title=title,
        )

    draft = report(datetime.date(2026, 1, 1), datetime.date(2026, 3, 31), "矩阵草稿")
    disclosures.add_expense(actor=finance, disclosure=draft, category="人员费用", amount="5")
    published = report(datetime.date(2025, 10, 1), datetime.date(2025, 12, 31), "矩阵公示")
    disclosures.publish(actor=finance, disclosure=published)
    return _disclosures(cast)


def _draft_args(cast):
    return [_disclosures(cast)["draft"].id]


def _published_args(cast):
    return [_disclosures(cast)["published"].id]


def _expense_args(cast):
    found = _disclosures(cast)
    return [found["draft"].id, found["line"].id]


PAGES.update(
    {
        "billing:disclosure_list": page(
            "billing:disclosure_list",
            staff_may("billing.view"),
            target=lambda c: reverse("billing:disclosure_detail", args=_draft_args(c)),
        ),
        "billing:disclosure_create": page(
            "billing:disclosure_create",
            staff_may("billing.manage"),
            data=lambda c, n: {
                "community": c.community_x.id,
                "first_month": "2025-01",
                "last_month": "2025-03",
            },
        ),
        "billing:disclosure_detail": page(
            "billing:disclosure_detail", staff_may("billing.view"), args=_draft_args
        ),
        "billing:disclosure_edit": page(
            "billing:disclosure_edit",
            staff_may("billing.manage"),
            args=_draft_args,
            data=lambda c, n: {"title": f"矩阵草稿{_n(n)}", "note": "说明"},
        ),
        "billing:disclosure_refresh": page(
            "billing:disclosure_refresh",
            staff_may("billing.manage"),
            args=_draft_args,
            data=lambda c, n: {},
        ),
        "billing:disclosure_expense_add": page(
            "billing:disclosure_expense_add",
            staff_may("billing.manage"),
            args=_draft_args,
            data=lambda c, n: {"expense-category": "保险", "expense-amount": f"{_n(n)}.50"},
        ),
        "billing:disclosure_expense_edit": page(
            "billing:disclosure_expense_edit",
            staff_may("billing.manage"),
            args=_expense_args,
            data=lambda c, n: {"category": "人员费用", "amount": f"{_n(n)}.25", "note": ""},
        ),
        "billing:disclosure_expense_remove": page(
            "billing:disclosure_expense_remove",
            staff_may("billing.manage"),
            args=_expense_args,
            data=lambda c, n: {},
        ),
        "billing:disclosure_publish": page(
            "billing:disclosure_publish",
            staff_may("billing.manage"),
            args=_draft_args,
            data=lambda c, n: {},
        ),
        "billing:disclosure_withdraw": page(
            "billing:disclosure_withdraw",
            staff_may("billing.manage"),
            args=_published_args,
            data=lambda c, n: {"withdraw-reason": "矩阵撤回"},
        ),
        "billing:disclosure_export": page(
            "billing:disclosure_export", staff_may("billing.view"), args=_draft_args
        ),
        "billing:disclosure_pdf": page(
            "billing:disclosure_pdf", staff_may("billing.view"), args=_draft_args
        ),
        # Residents of X read X's published report; nobody sees a draft here.
        "billing_resident:disclosure_list": page(
            "billing_resident:disclosure_list",
            X_RESIDENTS,
            target=lambda c: reverse("billing_resident:disclosure_detail", args=_published_args(c)),
        ),
        "billing_resident:disclosure_detail": page(
            "billing_resident:disclosure_detail", X_RESIDENTS, args=_published_args
        ),
        "billing_resident:disclosure_pdf": page(
            "billing_resident:disclosure_pdf", X_RESIDENTS, args=_published_args
        ),
    }
)
API.update(
    {
        "wuye_billing_api_disclosures_list_disclosures": op(
            "GET",
            _api(lambda c: "/billing/disclosures"),
            either(BILLING_VIEW_X, X_RESIDENTS),
            target=lambda c: _disclosures(c)["published"].id,
        ),
        "wuye_billing_api_disclosures_get_disclosure": op(
            "GET",
            _api(lambda c: f"/billing/disclosures/{_disclosures(c)['published'].id}"),
            either(BILLING_VIEW_X, X_RESIDENTS),
        ),
    }
)


# --- 减免 (discount rules and waivers): console and API ---
def _waivers(cast) -> dict:
    """Community X's vacant-house rule (50 % off 矩阵物业费, one month at least) and house
    B, recorded as vacant, with a waiver for 2026-03 proposed by finance (once per cell)."""
    from wuye.billing import waivers
    from wuye.billing.models import DiscountRule, Waiver
    from wuye.estates.models import House

    rule = DiscountRule.objects.filter(community=cast.community_x, name="矩阵空置减半").first()
    if rule is not None:
        return {"rule": rule, "pending": Waiver.objects.get(reason="矩阵减免申请")}
    finance = cast.actor("finance")
    rule = waivers.create_rule(
        actor=finance,
        community=cast.community_x,
        fee_item=_fees(cast)["area"],
        kind="vacant",
        name="矩阵空置减半",
        rate="0.5",
    )
    House.objects.filter(pk=cast.house_b.pk).update(occupancy=House.Occupancy.VACANT)
    cast.house_b.refresh_from_db()
    waivers.propose_waiver(
        actor=finance,
        house=cast.house_b,
        rule=rule,
        start_month=datetime.date(2026, 3, 1),
        end_month=datetime.date(2026, 3, 31),
        reason="矩阵减免申请",
    )
    return _waivers(cast)


# The pending waiver is finance's: a second person with billing.manage decides it.
WAIVER_DECIDERS_X = either(
    lambda n: staff_may("billing.manage")(n) and n != "finance",
)
# House B's waiver: billing staff of X and the resident of house B.
WAIVER_OF_B = either(BILLING_VIEW_X, only("resident_b"))

PAGES.update(
    {
        "billing:waiver_list": page(
            "billing:waiver_list",
            staff_may("billing.view"),
            target=lambda c: _waivers(c)["pending"].reason,
        ),
        "billing:waiver_propose": page(
            "billing:waiver_propose",
            staff_may("billing.manage"),
            data=lambda c, n: {
                "community": _waivers(c) and c.community_x.id,
                "building": c.building_x1.id,
                "unit": c.unit_x1.id,
                "number": c.house_b.number,
                "rule": _waivers(c)["rule"].id,
                "start_month": "2026-05",
                "end_month": "2026-06",
                "reason": f"空置{_n(n)}",
            },
        ),
        "billing:waiver_decide": page(
            "billing:waiver_decide",
            WAIVER_DECIDERS_X,
            args=lambda c: [_waivers(c)["pending"].id],
            data=lambda c, n: {"decision": "approve", "note": "矩阵"},
        ),
        "billing:rule_list": page(
            "billing:rule_list",
            staff_may("billing.view"),
            target=lambda c: _waivers(c)["rule"].name,
        ),
        "billing:rule_create": page(
            "billing:rule_create",
            staff_may("billing.manage"),
            data=lambda c, n: {
                "community": c.community_x.id,
                "fee_item": _fees(c)["area"].id,
                "kind": "prepay",
                "name": f"预交{_n(n)}",
                "rate": "0.05",
                "min_months": "12",
            },
        ),
        "billing:rule_edit": page(
            "billing:rule_edit",
            staff_may("billing.manage"),
            args=lambda c: [_waivers(c)["rule"].id],
            data=lambda c, n: {
                "fee_item": _fees(c)["area"].id,
                "kind": "vacant",
                "name": f"空置{_n(n)}",
                "rate": "0.4",
                "min_months": "1",
                "is_active": "on",
            },
        ),
    }
)
API.update(
    {
        "wuye_billing_api_waivers_list_discount_rules": op(
            "GET",
            _api(lambda c: "/billing/discount-rules"),
            BILLING_VIEW_X,
            target=lambda c: _waivers(c)["rule"].id,
        ),
        "wuye_billing_api_waivers_list_waivers": op(
            "GET",
            _api(lambda c: "/billing/waivers"),
            WAIVER_OF_B,
            target=lambda c: _waivers(c)["pending"].id,
        ),
        "wuye_billing_api_waivers_propose_waiver": op(
            "POST",
            _api(lambda c: "/billing/waivers"),
            staff_may("billing.manage"),
            data=lambda c, n: {
                "house_id": c.house_b.id,
                "rule_id": _waivers(c)["rule"].id,
                "start_month": "2026-05-01",
                "end_month": "2026-06-30",
                "reason": f"空置{_n(n)}",
            },
        ),
        "wuye_billing_api_waivers_decide_waiver": op(
            "POST",
            _api(lambda c: f"/billing/waivers/{_waivers(c)['pending'].id}/decision"),
            WAIVER_DECIDERS_X,
            data=lambda c, n: {"approve": True, "note": "矩阵"},
        ),
    }
)


# --- meter readings on the phone and the fees console's workbook imports ---
def _billing_workbook(sheet, headers, row):
    """A one-row .xlsx upload (made afresh for every cell: a file is read once)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    book = openpyxl.Workbook()
    book.active.title = sheet
    book.active.append(headers)
    book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(f"{sheet}.xlsx", out.getvalue())


def _reading_file(cast):
    """Today's reading 100.5 of house B's water meter (X's matrix-water, never read)."""
    from django.utils import timezone

    _fees(cast)
    headers = ["楼栋", "单元", "房号", "收费项目", "抄表日期", "本次读数", "换表"]
    today = timezone.localdate().isoformat()
    return _billing_workbook(
        "抄表", headers, ["1栋", "1单元", "0102", "matrix-water", today, 100.5]
    )


def _opening_file(cast):
    """House B owed 10.00 of X's property fee for 2025-11."""
    _fees(cast)
    headers = ["房屋编号", "楼栋", "单元", "房号", "收费项目", "所属期间", "应收金额", "已收金额"]
    return _billing_workbook(
        "期初欠费", headers, [None, "1栋", "1单元", "0102", "matrix-wuye", "2025-11", 10]
    )


METER_READERS_X = staff_may("billing.meters")

PAGES.update(
    {
        "meters_field:home": page(
            "meters_field:home",
            METER_READERS_X,
            target=lambda c: reverse("meters_field:community", args=[c.community_x.id]),
        ),
        "meters_field:community": page(
            "meters_field:community", METER_READERS_X, args=lambda c: [c.community_x.id]
        ),
        "meters_field:building": page(
            "meters_field:building", METER_READERS_X, args=lambda c: [c.building_x1.id]
        ),
        "meters_field:unit": page(
            "meters_field:unit", METER_READERS_X, args=lambda c: _fees(c) and [c.unit_x1.id]
        ),
        "meters_field:record": page(
            "meters_field:record",
            METER_READERS_X,
            args=lambda c: [c.house_b.id],
            data=lambda c, n: {"fee_item": _fees(c)["water"].id, "value": "100.5"},
        ),
        "billing:reading_import": page(
            "billing:reading_import",
            METER_READERS_X,
            data=lambda c, n: {"community": c.community_x.id, "file": _reading_file(c)},
        ),
        "billing:reading_template": Case(
            "GET",
            lambda c: reverse("billing:reading_template") + f"?community={c.community_x.id}",
            METER_READERS_X,
        ),
        "billing:opening_import": page(
            "billing:opening_import",
            staff_may("billing.manage"),
            data=lambda c, n: {"community": c.community_x.id, "file": _opening_file(c)},
        ),
        "billing:opening_template": page("billing:opening_template", staff_has("billing.manage")),
    }
)


# --- completeness -------------------------------------------------------------------
def _named_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in {"admin", "api"} or entry.urlconf_name == "django.conf.urls.i18n":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


# --- 催缴 (dunning): console pages ---
def _dunning(cast):
    """Finance's letter to house A about its 88.00 repair bill (once per cell)."""
    from wuye.billing import dunning
    from wuye.billing.models import DunningNotice

    found = DunningNotice.objects.filter(house=cast.house_a).first()
    if found is None:
        _fees(cast)
        found = dunning.send_reminders(
            actor=cast.actor("finance"), house_ids=[cast.house_a.id], channel="letter"
        ).notices[0]
    return found


PAGES.update(
    {
        # House A owes the repair bill of _fees (due 2026-06-15).
        "billing:dunning": page(
            "billing:dunning",
            staff_may("billing.view"),
            target=lambda c: _fees(c) and reverse("billing:dunning_house", args=[c.house_a.id]),
        ),
        "billing:dunning_export": page("billing:dunning_export", staff_has("billing.view")),
        "billing:dunning_send": page(
            "billing:dunning_send",
            staff_may("billing.collect"),
            data=lambda c, n: (
                _fees(c)
                and {"houses": [c.house_a.id], "channel": "phone", "note": f"矩阵催缴{_n(n)}"}
            ),
        ),
        "billing:dunning_batch": page(
            "billing:dunning_batch", staff_may("billing.view"), args=lambda c: [_dunning(c).batch]
        ),
        "billing:dunning_letters": page(
            "billing:dunning_letters",
            staff_may("billing.collect"),
            args=lambda c: [_dunning(c).batch],
        ),
        "billing:dunning_house": page(
            "billing:dunning_house", staff_may("billing.view"), args=lambda c: [c.house_a.id]
        ),
    }
)

# --- 催缴 (dunning): API ---
API.update(
    {
        # Each viewer gets their own communities' houses (scoping: tests/test_api_dunning.py).
        "wuye_billing_api_dunning_list_dunning": op(
            "GET", _api(lambda c: _fees(c) and "/billing/dunning"), staff_has("billing.view")
        ),
        "wuye_billing_api_dunning_send_reminders": op(
            "POST",
            _api(lambda c: _fees(c) and "/billing/dunning/reminders"),
            staff_may("billing.collect"),
            data=lambda c, n: {
                "house_ids": [c.house_a.id],
                "channel": "phone",
                "note": f"矩阵催缴{_n(n)}",
            },
        ),
        "wuye_billing_api_dunning_list_notices": op(
            "GET",
            _api(lambda c: "/billing/dunning/notices"),
            staff_may("billing.view"),
            target=lambda c: _dunning(c).id,
        ),
    }
)


# --- engagement: each feature keeps its rows in its own module -------------------------
# ``tests/matrix_<feature>.py`` defines ``rows(m)`` returning (pages, api): dicts like
# PAGES and API, built with this module's helpers (``m.page``, ``m.op``, ``m.staff_may``…).
for _feature in (
    "notices",
    "activities",
    "surveys",
    "channels",
    "webhooks",
    "quality_dashboard",
    "quality_complaints",
    "quality_care",
    "quality_conduct",
    "quality_training",
    "quality_reports",
    "privacy",
):
    _pages, _operations = importlib.import_module(f"matrix_{_feature}").rows(sys.modules[__name__])
    PAGES.update(_pages)
    API.update(_operations)


def test_every_page_is_in_the_matrix():
    names = set(_named_patterns()) - {"javascript-catalog"}
    assert names - set(PAGES) - PUBLIC_PAGES == set()
    assert set(PAGES) - names == set()


def test_every_api_operation_is_in_the_matrix():
    schema = api.get_openapi_schema()
    operations = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert operations - set(API) - PUBLIC_OPERATIONS == set()
    assert set(API) - operations == set()


# --- the matrix ---------------------------------------------------------------------
def _client(cast, name, *, api_call):
    if name is None:
        from django.test import Client

        return Client(), {}
    if api_call:
        _token, secret = create_api_token(actor=cast.actor(name), name="matrix")
        from django.test import Client

        return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    return cast.client(name), {}


def _request(client, case, url, payload, headers, *, api_call):
    method = case.method.lower()
    if api_call:
        if case.method == "GET":
            return client.get(url, **headers)
        if case.multipart:
            return client.post(url, data=payload, **headers)
        return getattr(client, method)(
            url, data=json.dumps(payload), content_type="application/json", **headers
        )
    if case.method == "GET":
        return client.get(url)
    return client.post(url, payload)


def _contains_target(response, marker, *, api_call) -> bool:
    if api_call:
        body = response.json()
        items = body.get("results", body.get("items", body)) if isinstance(body, dict) else body
        return any(item.get("id") == marker for item in items)
    return str(marker) in response.content.decode()


def run_cell(cast, case: Case, name, *, api_call):
    """One request, rolled back afterwards so every actor meets the same database."""
    with transaction.atomic():
        _run_cell(cast, case, name, api_call=api_call)
        transaction.set_rollback(True)


def _run_cell(cast, case: Case, name, *, api_call):
    client, headers = _client(cast, name, api_call=api_call)
    url = case.url(cast)
    payload = case.data(cast, name) if case.data else None
    marker = case.target(cast) if case.target else None
    allowed = case.allowed(name)
    writes = Writes()
    with connection.execute_wrapper(writes):
        response = _request(client, case, url, payload, headers, api_call=api_call)
    changed = bool(writes.statements)
    where = f"{case.method} {url} as {name}: {response.status_code}"
    assert response.status_code < 500, where

    if case.data is not None:  # a write
        if allowed:
            assert response.status_code in (200, 201, 204, 302), where
            assert changed, f"{where} — allowed write changed nothing"
        else:
            assert not changed, f"{where} — denied write changed the database: {writes.statements}"
            if name is None:
                assert response.status_code in ((401,) if api_call else (302,)), where
            elif api_call:
                assert response.status_code in (400, 403, 404), where
            else:  # a page may also answer with its form showing the error
                assert response.status_code in (200, 400, 403, 404), where
        return

    if case.target is not None:  # a list: everyone may ask, only the allowed see the target
        if name is None:
            assert response.status_code in ((401,) if api_call else (302,)), where
        elif response.status_code == 200:
            assert _contains_target(response, marker, api_call=api_call) == allowed, (
                f"{where} — target {'missing' if allowed else 'leaked'}"
            )
        else:
            assert not allowed and response.status_code == 403, where
        assert not changed, (where, writes.statements)
        return

    if allowed:
        assert response.status_code == 200, where
    elif name is not None and response.status_code == 302:
        assert response.url in {reverse("web:console"), reverse("web:field_home")}, where
    elif name is None:
        assert response.status_code in ((401,) if api_call else (302,)), where
    else:
        assert response.status_code in (403, 404), where
    assert not changed, (where, writes.statements)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run_row(cast, case: Case, *, api_call):
    """Every actor against one row. The row's own objects (made by its url and target
    helpers, which find them when they exist) are made once for the row, and each
    actor's request is rolled back to that point: the same database for every actor,
    without rebuilding it eighteen times."""
    with transaction.atomic():
        case.url(cast)
        if case.target:
            case.target(cast)
        for actor in ACTORS:
            run_cell(cast, case, actor, api_call=api_call)
        transaction.set_rollback(True)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_matrix(cast, name):
    run_row(cast, PAGES[name], api_call=False)


@pytest.mark.parametrize("operation", sorted(API))
def test_api_matrix(cast, operation):
    run_row(cast, API[operation], api_call=True)


def test_matrix_size_is_reported():
    """The note on the issue quotes this figure; keep it honest."""
    assert len(ACTORS) == 18
    assert len(PAGES) * len(ACTORS) + len(API) * len(ACTORS) >= 1500
