"""The permission vocabulary and the default roles each new company starts with.

Roles are data (``staff.Role``): a company may edit them. This module only names the
permissions code can check and seeds sensible defaults.
"""

from django.utils.translation import gettext_lazy as _

PERMISSIONS: dict[str, str] = {
    "estates.view": _("View communities, buildings and houses"),
    "estates.manage": _("Create and edit communities, buildings and houses"),
    "people.view": _("View residents"),
    "people.manage": _("Create and edit residents and their houses"),
    "people.view_sensitive": _("See full ID numbers and mobiles"),
    "staff.view": _("View staff, shifts and the roster"),
    "staff.manage": _("Manage staff, roles, shifts and the roster"),
    "company.manage": _("Manage company settings and API tokens of others"),
    "workorders.view": _("View the service requests of their communities"),
    "workorders.create": _("Record service requests (phone, front desk, staff report)"),
    "workorders.dispatch": _("Accept, dispatch, transfer and close service requests"),
    "workorders.work": _("Take, grab and complete service requests on site"),
    "workorders.configure": _("Configure request categories and SLA policies"),
    "facilities.view": _("View equipment, certificates, plans and rounds"),
    "facilities.manage": _("Manage the equipment ledger, checklists and plans"),
    "facilities.work": _("Carry out inspections, patrols and maintenance rounds"),
    "workorders.complaints": _(
        "Handle complaints: accept, dispatch, record the root cause, return visits and closing"
    ),
    "incidents.report": _("Report emergencies, respond to them and post updates"),
    "incidents.manage": _("Resolve, close and cancel emergencies; send updates to residents"),
    "billing.view": _("View fee items, bill runs, bills and arrears"),
    "billing.manage": _(
        "Manage fee items and prices, issue bill runs, propose and approve adjustments"
    ),
    "billing.collect": _("Take payments and issue receipts"),
    "billing.meters": _("Record meter readings"),
    "engagement.view": _("View notices, activities, surveys and their results"),
    "engagement.manage": _("Post notices, organise activities, run surveys and owner votes"),
    "engagement.assist": _(
        "Sign residents up for activities, check them in, enter survey answers taken by phone"
    ),
    "quality.view": _("View quality dashboards, care scores, spot checks, training and reports"),
    "quality.inspect": _("Carry out conduct spot checks and record training attendance"),
    "quality.manage": _(
        "Set quality weights, edit the conduct checklist, courses and quizzes, "
        "schedule training and proactive visits"
    ),
    "privacy.view_audit": _("See the audit log of exports and of looks at personal data"),
    "privacy.erasure": _("Approve or reject residents' requests to delete their account"),
}

ALL = tuple(PERMISSIONS)
FIELD = (
    "estates.view",
    "workorders.create",
    "workorders.work",
    "facilities.work",
    "incidents.report",
)
DESK = ("workorders.view", "workorders.create", "workorders.dispatch", "incidents.report")
ENGAGEMENT = ("engagement.view", "engagement.manage", "engagement.assist")
QUALITY = ("quality.view", "quality.inspect", "quality.manage")


# code: (Chinese name, English name, company-wide?, permissions)
DEFAULT_ROLES: dict[str, tuple[str, str, bool, tuple[str, ...]]] = {
    "company_admin": ("公司管理员", "Company administrator", True, ALL),
    "project_manager": (
        "项目经理",
        "Project manager",
        False,
        (
            "estates.view",
            "estates.manage",
            "people.view",
            "people.manage",
            "people.view_sensitive",
            "staff.view",
            "staff.manage",
            *DESK,
            "workorders.configure",
            "workorders.complaints",
            "facilities.view",
            "facilities.manage",
            "incidents.manage",
            "billing.view",
            "billing.meters",
            *ENGAGEMENT,
            *QUALITY,
            "privacy.erasure",
        ),
    ),
    "service_supervisor": (
        "客服主管",
        "Customer service supervisor",
        False,
        (
            "estates.view",
            "people.view",
            "people.manage",
            "staff.view",
            *DESK,
            "workorders.complaints",
            *ENGAGEMENT,
            "quality.view",
            "quality.inspect",
        ),
    ),
    "dispatcher": (
        "客服/调度",
        "Front desk / dispatcher",
        False,
        (
            "estates.view",
            "people.view",
            "people.manage",
            "staff.view",
            *DESK,
            "facilities.view",
            "incidents.manage",
            "engagement.view",
            "engagement.assist",
        ),
    ),
    "technician": ("维修工", "Technician", False, (*FIELD, "billing.meters")),
    "guard": ("保安", "Security guard", False, FIELD),
    "cleaner": ("保洁", "Cleaner", False, FIELD),
    "gardener": ("绿化", "Gardener", False, FIELD),
    "finance": (
        "财务",
        "Finance",
        True,
        (
            "estates.view",
            "people.view",
            "workorders.view",
            "billing.view",
            "billing.manage",
            "billing.collect",
            "billing.meters",
        ),
    ),
    "quality": (
        "品质专员",
        "Quality officer",
        True,
        (
            "estates.view",
            "people.view",
            "staff.view",
            "workorders.view",
            "facilities.view",
            "engagement.view",
            *QUALITY,
        ),
    ),
}

# Roles whose home is the mobile field app rather than the office console.
FIELD_ROLES = frozenset({"technician", "guard", "cleaner", "gardener"})

DEFAULT_TRADES: dict[str, str] = {
    "plumbing_electric": "水电",
    "pipes": "管道",
    "elevator": "电梯",
    "doors_windows": "门窗",
    "low_voltage": "弱电",
    "civil": "土建",
}
