"""Residents (业主/家庭成员/租户) and their links to houses over time."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.masking import mask_id_number, mask_mobile
from wuye.core.scoping import ScopedQuerySet

mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter an 11-digit mainland mobile number starting with 1.")
)
id_number_validator = RegexValidator(
    r"^(\d{17}[\dXx]|[A-Za-z0-9()（）-]{6,20})$",
    _("Enter an 18-character resident ID or a passport/permit number."),
)


class ResidentQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff with people.view see residents tied to their communities (ever);
        a resident sees the people currently sharing one of their houses."""
        in_scope = Residency.objects.filter(
            actor.staff_q(
                community="house__community_id", company="house__company_id", perm="people.view"
            )
        ).values("resident_id")
        household = Residency.objects.active().filter(actor.resident_q("house_id"))
        # Company-wide staff also see residents not yet tied to any house.
        company_wide = actor.staff_q(community=None, company="company_id", perm="people.view")
        return self.filter(
            Q(id__in=in_scope) | company_wide | Q(id__in=household.values("resident_id"))
        )


class Resident(models.Model):
    """A person who lives in, owns or rents a house of one company."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="residents",
        verbose_name=_("company"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident_profiles",
        verbose_name=_("login account"),
    )
    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True, validators=[mobile_validator])
    id_number = models.CharField(
        _("ID number"),
        max_length=20,
        blank=True,
        validators=[id_number_validator],
        help_text=_("Stored for contracts; shown masked except to roles allowed to see it."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "mobile"],
                condition=~Q(mobile=""),
                name="resident_mobile_unique_in_company",
                violation_error_message=_(
                    "Another resident of this company already has this mobile."
                ),
            ),
        ]
        indexes = [models.Index(fields=["company", "id"], name="resident_company_id_idx")]

    def __str__(self):
        return self.name

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class ResidencyQuerySet(ScopedQuerySet):
    def active(self, on=None):
        on = on or timezone.localdate()
        return self.filter(Q(move_in__lte=on) | Q(move_in__isnull=True)).filter(
            Q(move_out__isnull=True) | Q(move_out__gte=on)
        )

    def visible_to(self, actor):
        staff_q = actor.staff_q(
            community="house__community_id", company="house__company_id", perm="people.view"
        )
        household_q = actor.resident_q("house_id")
        return self.filter(staff_q | household_q)


class Residency(models.Model):
    """A resident's tie to one house for a period: owner, family member or tenant."""

    class Relation(models.TextChoices):
        OWNER = "owner", _("Owner")
        FAMILY = "family", _("Family member")
        TENANT = "tenant", _("Tenant")

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="residencies", verbose_name=_("resident")
    )
    house = models.ForeignKey(
        "estates.House",
        on_delete=models.PROTECT,
        related_name="residencies",
        verbose_name=_("house"),
    )
    relation = models.CharField(_("relation"), max_length=16, choices=Relation)
    move_in = models.DateField(_("move-in date"), null=True, blank=True)
    move_out = models.DateField(_("move-out date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ResidencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("residency")
        verbose_name_plural = _("residencies")
        ordering = ["house_id", "relation", "id"]
        constraints = [
            # One open tie per person and house; history rows have a move-out date.
            models.UniqueConstraint(
                fields=["resident", "house"],
                condition=Q(move_out__isnull=True),
                name="residency_open_unique",
                violation_error_message=_("This resident already lives in this house."),
            ),
            models.CheckConstraint(
                condition=Q(move_out__isnull=True)
                | Q(move_in__isnull=True)
                | Q(move_out__gte=models.F("move_in")),
                name="residency_move_out_after_move_in",
                violation_error_message=_("The move-out date cannot be before the move-in date."),
            ),
        ]

    def __str__(self):
        return f"{self.resident} @ {self.house_id} ({self.get_relation_display()})"
