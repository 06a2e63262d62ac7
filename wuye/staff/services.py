"""Writes to staff, roles, shifts and the roster."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wuye.accounts.models import User
from wuye.core.seeding import create_missing
from wuye.core.services import full_clean, require
from wuye.estates.models import Community, Company
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
from wuye.staff.policy import DEFAULT_ROLES, DEFAULT_TRADES

DEFAULT_SHIFTS = (
    ("早班", datetime.time(8), datetime.time(16), "#16a34a"),
    ("中班", datetime.time(16), datetime.time(0), "#d97706"),
    ("夜班", datetime.time(0), datetime.time(8), "#4f46e5"),
    ("常白班", datetime.time(9), datetime.time(18), "#2563eb"),
)


def seed_company_defaults(*, company: Company) -> None:
    """Default roles, trades and shifts for a new company (idempotent)."""
    create_missing(
        Role,
        company=company,
        key="code",
        rows={
            code: {"name": name_zh, "company_wide": company_wide, "permissions": list(perms)}
            for code, (name_zh, _name_en, company_wide, perms) in DEFAULT_ROLES.items()
        },
    )
    create_missing(
        Trade,
        company=company,
        key="code",
        rows={code: {"name": name} for code, name in DEFAULT_TRADES.items()},
    )
    create_missing(
        Shift,
        company=company,
        key="name",
        rows={
            name: {"start_time": start, "end_time": end, "color": color}
            for name, start, end, color in DEFAULT_SHIFTS
        },
    )


def _same_company(actor, *objs) -> None:
    for obj in objs:
        if obj.company_id != actor.staff.company_id:
            raise PermissionDenied


@transaction.atomic
def create_staff_member(
    *,
    actor,
    username: str,
    name: str,
    employee_no: str,
    password: str | None = None,
    mobile: str = "",
    roles: list[Role],
    communities: list[Community] = (),
    trades: list[Trade] = (),
) -> StaffMember:
    require(actor, "staff.manage")
    _same_company(actor, *roles, *communities, *trades)
    if not roles:
        raise ValidationError({"roles": _("Choose at least one role.")})
    outside = {c.id for c in communities} - set(actor.community_ids)
    if outside:
        raise PermissionDenied
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    if mobile and User.objects.filter(mobile=mobile).exists():
        raise ValidationError({"mobile": _("Another account already uses this mobile.")})
    user = User(username=username, first_name=name, mobile=mobile or None)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    member = StaffMember(
        company_id=actor.staff.company_id,
        user=user,
        employee_no=employee_no,
        name=name,
        mobile=mobile,
    )
    full_clean(member, exclude=["user"])
    member.save()
    member.roles.set(roles)
    member.communities.set(communities)
    member.trades.set(trades)
    return member


@transaction.atomic
def set_duty_status(*, actor, member: StaffMember, status: str) -> StaffMember:
    """在岗/离岗: a member switches their own status; managers may switch others'."""
    if member.user_id != actor.user.pk:
        require(actor, "staff.manage")
    if status not in StaffMember.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    StaffMember.objects.filter(pk=member.pk).update(status=status)
    member.status = status
    return member


@transaction.atomic
def assign_shift(
    *, actor, member: StaffMember, date: datetime.date, shift: Shift, community: Community
) -> RosterEntry:
    """Put a member on a shift on a date (排班)."""
    require(actor, "staff.manage")
    _same_company(actor, member, shift, community)
    if community.id not in actor.community_ids:
        raise PermissionDenied
    if not member.communities.filter(pk=community.pk).exists():
        raise ValidationError({"community": _("This member does not work in that community.")})
    try:
        with transaction.atomic():
            return RosterEntry.objects.create(
                staff=member, date=date, shift=shift, community=community
            )
    except IntegrityError as exc:
        raise ValidationError({"shift": _("Already on this shift that day.")}) from exc


@transaction.atomic
def remove_shift(*, actor, entry: RosterEntry) -> None:
    require(actor, "staff.manage")
    _same_company(actor, entry.staff)
    if entry.community_id not in actor.community_ids:
        raise PermissionDenied
    entry.delete()


@transaction.atomic
def update_role(
    *, actor, role: Role, name: str, company_wide: bool, permissions: list[str]
) -> Role:
    """Rename a role and set its permissions. Only company-wide managers may do it:
    a community-scoped manager must not widen their own reach."""
    require(actor, "staff.manage")
    _same_company(actor, role)
    if not actor.company_wide:
        raise PermissionDenied
    role.name = name
    role.company_wide = company_wide
    role.permissions = sorted(set(permissions))
    full_clean(role)
    role.save(update_fields=["name", "company_wide", "permissions"])
    return role


@transaction.atomic
def create_shift(
    *, actor, name: str, start_time: datetime.time, end_time: datetime.time, color: str = ""
) -> Shift:
    """A new 班次 for the actor's company; an end at or before the start crosses midnight
    (equal times make a 24-hour duty)."""
    require(actor, "staff.manage")
    shift = Shift(
        company_id=actor.staff.company_id,
        name=name,
        start_time=start_time,
        end_time=end_time,
        color=color or "#2563eb",
    )
    full_clean(shift)
    shift.save()
    return shift
