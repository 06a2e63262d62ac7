"""Staff, roles (as data), trades, shifts and the duty roster (排班)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet
from wuye.people.models import mobile_validator
from wuye.staff.policy import PERMISSIONS


class CompanyOwnedQuerySet(ScopedQuerySet):
    """Company-level master data: visible to any staff member of that company."""

    def visible_to(self, actor):
        return self.filter(actor.staff_q(community=None, company="company_id", any_scope=True))


class Role(models.Model):
    """A role with its permissions; company-wide roles see every community."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="roles", verbose_name=_("company")
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    company_wide = models.BooleanField(
        _("company-wide"),
        default=False,
        help_text=_("Members see every community of the company, not only their own."),
    )
    permissions = models.JSONField(_("permissions"), default=list, blank=True)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="role_code_unique"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = sorted(set(self.permissions) - set(PERMISSIONS))
        if unknown:
            raise ValidationError(
                {"permissions": _("Unknown permissions: %s") % ", ".join(unknown)}
            )


class Trade(models.Model):
    """工种/技能 such as 水电 or 电梯, used to route repairs to people who can do them."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="trades",
        verbose_name=_("company"),
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=50)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="trade_code_unique"),
        ]

    def __str__(self):
        return self.name


class StaffMemberQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Company-wide viewers see all staff; others see colleagues sharing a community."""
        sharing = StaffMember.communities.through.objects.filter(
            actor.staff_q(
                community="community_id", company="community__company_id", perm="staff.view"
            )
        ).values("staffmember_id")
        return self.filter(
            Q(id__in=sharing)
            | actor.staff_q(community=None, company="company_id", perm="staff.view")
            | Q(user_id=actor.user.pk)
        )


class StaffMember(models.Model):
    """An employee of a property company, scoped to one or more communities."""

    class Status(models.TextChoices):
        ON_DUTY = "on_duty", _("On duty")
        OFF_DUTY = "off_duty", _("Off duty")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="staff", verbose_name=_("company")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_profile",
        verbose_name=_("login account"),
    )
    employee_no = models.CharField(_("employee number"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, validators=[mobile_validator])
    roles = models.ManyToManyField(Role, related_name="members", verbose_name=_("roles"))
    communities = models.ManyToManyField(
        "estates.Community", related_name="staff", blank=True, verbose_name=_("communities")
    )
    trades = models.ManyToManyField(
        Trade, related_name="staff", blank=True, verbose_name=_("trades")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.ON_DUTY)
    is_active = models.BooleanField(_("employed"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = StaffMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "employee_no"], name="staff_employee_no_unique"
            ),
        ]

    def __str__(self):
        return self.name


class Shift(models.Model):
    """班次: a named working time such as 早班 08:00–16:00 (may cross midnight)."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="shifts",
        verbose_name=_("company"),
    )
    name = models.CharField(_("name"), max_length=32)
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    color = models.CharField(_("colour"), max_length=7, default="#2563eb")

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["company_id", "start_time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="shift_name_unique"),
        ]

    def __str__(self):
        return f"{self.name} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time


class RosterEntryQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(Q(staff__in=StaffMember.objects.visible_to(actor)))


class RosterEntry(models.Model):
    """排班: one staff member works one shift on one date in one community."""

    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="roster", verbose_name=_("staff member")
    )
    date = models.DateField(_("date"))
    shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, related_name="+", verbose_name=_("shift")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )

    objects = RosterEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")
        ordering = ["date", "shift__start_time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "date", "shift"], name="roster_unique"),
        ]
        indexes = [models.Index(fields=["community", "date"], name="roster_community_date_idx")]

    def __str__(self):
        return f"{self.date} {self.shift.name} {self.staff.name}"
