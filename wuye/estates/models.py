"""The estate registry: 物业公司 → 小区 → 楼栋 → 单元 → 房屋, and 公共区域.

Houses carry ``company`` and ``community`` copies of their ancestry so that the
scoping filter and keyset pagination hit one composite index at a million rows.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet

MAX_AREA = Decimal("100000")  # m²; anything larger is a typing error


class CompanyQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(id__in=actor.company_ids)


class Company(models.Model):
    """物业公司 — the tenant. Nothing crosses from one company to another."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("property company")
        verbose_name_plural = _("property companies")
        ordering = ["id"]

    def __str__(self):
        return self.name


class CommunityQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        staff_q = actor.staff_q(community="id", company="company_id")
        resident_q = Q(id__in=actor.resident_community_ids())
        return self.filter(staff_q | resident_q)


class Community(models.Model):
    """项目/小区: a residential estate or an office building managed under contract."""

    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        OFFICE = "office", _("Office building")
        COMMERCIAL = "commercial", _("Commercial")
        MIXED = "mixed", _("Mixed use")

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="communities", verbose_name=_("company")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.RESIDENTIAL)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    service_phone = models.CharField(_("service phone"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="community_code_unique"),
            models.UniqueConstraint(fields=["company", "name"], name="community_name_unique"),
        ]

    def __str__(self):
        return self.name


class BuildingQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        staff_q = actor.staff_q(community="community_id", company="community__company_id")
        resident_q = (
            Q(id__in=actor.resident_houses().values("building_id"))
            if actor.is_resident
            else Q(pk__in=[])
        )
        return self.filter(staff_q | resident_q)


class Building(models.Model):
    """楼栋."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=50, help_text=_("e.g. 3栋 or A座"))
    floors_above = models.PositiveSmallIntegerField(
        _("floors above ground"), default=1, validators=[MaxValueValidator(200)]
    )
    floors_below = models.PositiveSmallIntegerField(
        _("floors below ground"), default=0, validators=[MaxValueValidator(20)]
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    objects = BuildingQuerySet.as_manager()

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["community_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="building_name_unique"),
        ]

    def __str__(self):
        return f"{self.community.name} {self.name}"


class UnitQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        staff_q = actor.staff_q(
            community="building__community_id", company="building__community__company_id"
        )
        resident_q = (
            Q(id__in=actor.resident_houses().values("unit_id"))
            if actor.is_resident
            else Q(pk__in=[])
        )
        return self.filter(staff_q | resident_q)


class Unit(models.Model):
    """单元 — a stairwell/entrance inside a building."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("building")
    )
    name = models.CharField(_("name"), max_length=50, help_text=_("e.g. 1单元"))
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="unit_name_unique"),
        ]

    def __str__(self):
        return f"{self.building} {self.name}"


class HouseQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        staff_q = actor.staff_q(community="community_id", company="company_id")
        resident_q = actor.resident_q("id")
        return self.filter(staff_q | resident_q)


class House(models.Model):
    """房屋 — the unit of billing and of service: a flat, shop, office, parking space…"""

    class Kind(models.TextChoices):
        RESIDENCE = "residence", _("Residence")
        SHOP = "shop", _("Shop")
        OFFICE = "office", _("Office")
        PARKING = "parking", _("Parking space")
        STORAGE = "storage", _("Storage room")

    class Occupancy(models.TextChoices):
        OWNER_OCCUPIED = "owner_occupied", _("Owner-occupied")
        RENTED = "rented", _("Rented")
        VACANT = "vacant", _("Vacant")
        RENOVATING = "renovating", _("Under renovation")

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="houses", verbose_name=_("community")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="houses", verbose_name=_("building")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="houses",
        null=True,
        blank=True,
        verbose_name=_("unit"),
    )
    number = models.CharField(_("house number"), max_length=32, help_text=_("e.g. 0302"))
    floor = models.SmallIntegerField(
        _("floor"), validators=[MinValueValidator(-20), MaxValueValidator(200)]
    )
    built_area = models.DecimalField(
        _("built-up area (m²)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_AREA)],
    )
    indoor_area = models.DecimalField(
        _("indoor area (m²)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_AREA)],
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.RESIDENCE)
    occupancy = models.CharField(
        _("occupancy"), max_length=16, choices=Occupancy, default=Occupancy.VACANT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HouseQuerySet.as_manager()

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "number"],
                condition=Q(unit__isnull=False),
                name="house_number_unique_in_unit",
                violation_error_message=_("A house with this number already exists in this unit."),
            ),
            models.UniqueConstraint(
                fields=["building", "number"],
                condition=Q(unit__isnull=True),
                name="house_number_unique_in_building",
                violation_error_message=_(
                    "A house with this number already exists in this building."
                ),
            ),
            models.CheckConstraint(
                condition=Q(built_area__gte=0) & Q(built_area__lte=MAX_AREA),
                name="house_built_area_range",
                violation_error_message=_("The built-up area must be between 0 and 100000 m²."),
            ),
            models.CheckConstraint(
                condition=Q(indoor_area__isnull=True) | Q(indoor_area__lte=models.F("built_area")),
                name="house_indoor_not_above_built",
                violation_error_message=_(
                    "The indoor area cannot be larger than the built-up area."
                ),
            ),
        ]
        indexes = [
            # Keyset pagination inside the scope: WHERE company/community = … ORDER BY id.
            models.Index(fields=["company", "id"], name="house_company_id_idx"),
            models.Index(fields=["community", "id"], name="house_community_id_idx"),
        ]

    def __str__(self):
        return self.address

    @property
    def address(self) -> str:
        """Human address, e.g. '翠湖花园 3栋 2单元 0302'."""
        parts = [self.community.name, self.building.name]
        if self.unit_id:
            parts.append(self.unit.name)
        parts.append(self.number)
        return " ".join(parts)


class CommonAreaQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        staff_q = actor.staff_q(community="community_id", company="community__company_id")
        resident_q = Q(community_id__in=actor.resident_community_ids())
        return self.filter(staff_q | resident_q)


class CommonArea(models.Model):
    """公共区域: lobby, garage, garden, pump room… of a community or one building."""

    class Kind(models.TextChoices):
        LOBBY = "lobby", _("Lobby")
        GARAGE = "garage", _("Garage")
        GARDEN = "garden", _("Garden")
        PUMP_ROOM = "pump_room", _("Pump room")
        POWER_ROOM = "power_room", _("Power distribution room")
        ELEVATOR = "elevator", _("Elevator hall")
        STAIRWELL = "stairwell", _("Stairwell")
        ROOF = "roof", _("Roof")
        ENTRANCE = "entrance", _("Entrance gate")
        PLAYGROUND = "playground", _("Playground")
        OTHER = "other", _("Other")

    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="common_areas",
        verbose_name=_("community"),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        related_name="common_areas",
        null=True,
        blank=True,
        verbose_name=_("building"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.OTHER)
    description = models.CharField(_("description"), max_length=200, blank=True)

    objects = CommonAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("common area")
        verbose_name_plural = _("common areas")
        ordering = ["community_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "name"],
                condition=Q(building__isnull=False),
                name="common_area_name_unique_in_building",
                violation_error_message=_("An area with this name already exists there."),
            ),
            models.UniqueConstraint(
                fields=["community", "name"],
                condition=Q(building__isnull=True),
                name="common_area_name_unique_in_community",
                violation_error_message=_("An area with this name already exists there."),
            ),
        ]

    def __str__(self):
        return self.name
