"""Demo data of the privacy pages: a fortnight of the audit log and two residents'
deletion requests (one waiting, one rejected)."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from wuye.people.models import Residency
from wuye.privacy.models import AccessLog, Action, DeletionRequest, DeletionState

RESIDENT_MOBILE = "13800138000"  # the printed demo resident (wuye.demo) keeps their account

# (days ago, hour, username, action, what, rows)
ENTRIES = [
    (13, 9, "admin", Action.EXPORT, "wuye-orders-{d}.xlsx /console/orders/ ?status=closed", 412),
    (12, 10, "finance", Action.EXPORT, "wuye-payments-{d}.xlsx /console/cashier/payments/", 268),
    (11, 15, "manager", Action.VIEW_SENSITIVE, "住户 #{r}", None),
    (10, 11, "finance", Action.EXPORT, "wuye-dunning-{d}.xlsx /console/billing/dunning/", 57),
    (9, 16, "quality", Action.EXPORT, "wuye-complaints-{d}.xlsx /console/quality/complaints/", 38),
    (8, 9, "admin", Action.EXPORT, "wuye-deliveries-{d}.xlsx /notifications/deliveries/", 120),
    (7, 14, "manager", Action.VIEW_SENSITIVE, "住户 #{s}", None),
    (6, 10, "manager", Action.EXPORT, "wuye-care-{d}.xlsx /console/quality/care/export/", 24),
    (5, 17, "admin", Action.EXPORT, "report.pdf /console/quality/reports/", None),
    (
        4,
        9,
        "finance",
        Action.EXPORT,
        "wuye-bills-{d}.xlsx /console/billing/bills/ ?status=open",
        903,
    ),
    (3, 11, "manager", Action.VIEW_SENSITIVE, "住户 #{r}", None),
    (2, 15, "admin", Action.EXPORT, "wuye-audit-log-{d}.xlsx /console/privacy/audit/", 11),
    (1, 10, "quality", Action.EXPORT, "wuye-monthly-{d}.xlsx /console/quality/", 31),
]


def build(company, today: datetime.date) -> None:
    users = {u.username: u for u in get_user_model().objects.filter(staff_profile__company=company)}
    ties = list(
        Residency.objects.filter(house__company=company, move_out__isnull=True)
        .exclude(resident__user__isnull=True)
        .exclude(resident__user__username=RESIDENT_MOBILE)
        .select_related("resident", "house")
        .order_by("-id")[:2]
    )
    first, second = ties[0].resident.pk, ties[1].resident.pk
    zone = timezone.get_current_timezone()
    rows = []
    for days, hour, username, action, what, count in ENTRIES:
        day = today - datetime.timedelta(days=days)
        rows.append(
            AccessLog(
                company=company,
                actor=users.get(username),
                at=datetime.datetime.combine(day, datetime.time(hour, 12), zone),
                action=action,
                what=what.format(d=day.strftime("%Y%m%d"), r=first, s=second),
                row_count=count,
                ip="10.0.8.21",
            )
        )
    AccessLog.objects.bulk_create(rows)
    now = timezone.now()
    waiting, rejected = ties
    DeletionRequest.objects.create(
        company=company,
        community_id=waiting.house.community_id,
        resident=waiting.resident,
        user_id=waiting.resident.user_id,
        reason="房子已出售，不再使用物业 App",
        created_at=now - datetime.timedelta(days=1, hours=3),
    )
    DeletionRequest.objects.create(
        company=company,
        community_id=rejected.house.community_id,
        resident=rejected.resident,
        user_id=rejected.resident.user_id,
        reason="不想再收到通知",
        created_at=now - datetime.timedelta(days=6),
        state=DeletionState.REJECTED,
        decided_by=users.get("manager"),
        decided_at=now - datetime.timedelta(days=5),
        decision_note="可在“我的-通知设置”关闭通知；如仍需注销请再次申请",
    )
