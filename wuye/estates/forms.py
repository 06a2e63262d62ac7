"""Console forms for the estate registry.

Forms take labels from the models' verbose names and run field validation; writes
go through ``wuye.estates.services`` and its ValidationErrors are mapped back onto the
form (``wuye.core.console.add_service_errors``). Model constraint checks are left to
the service (``validate_unique`` is a no-op here); the few constraints whose generic
message would be unhelpful (house number in a unit, indoor ≤ built-up area) are
checked in ``clean`` with a message naming the field.
"""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.core.console import ConsoleModelForm
from wuye.estates.models import Building, CommonArea, Community, House, Unit
from wuye.estates.selectors import common_area_name_taken, house_number_taken

CASCADE_CLASS = "cascade"


def raw_id(form, name: str) -> int | None:
    """The id the user picked for ``name`` (bound data, else initial), if it is one."""
    value = form.data.get(form.add_prefix(name)) if form.is_bound else form.initial.get(name)
    value = getattr(value, "pk", value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class EstateCascadeMixin:
    """community → building → unit selects without unbounded dropdowns.

    Validation accepts any row the actor may use; the options shown are only the
    children of the chosen parent (a community has tens of buildings, a building a
    handful of units). Changing a parent re-renders the form through HTMX.
    """

    def init_cascade(self, actor, *, manage: bool, empty_unit_label=None):
        communities = Community.objects.visible_to(actor)
        if manage:
            communities = communities.filter(id__in=sorted(actor.community_ids))
        self.fields["community"].queryset = communities
        self.fields["community"].widget.attrs["class"] = CASCADE_CLASS
        community_id = raw_id(self, "community")
        building_id = None
        if "building" in self.fields:
            buildings = Building.objects.visible_to(actor).filter(
                community_id__in=communities.values("id")
            )
            field = self.fields["building"]
            field.queryset = buildings
            field.widget.attrs["class"] = CASCADE_CLASS
            if community_id:
                options = buildings.filter(community_id=community_id).values_list("id", "name")
                field.widget.choices = [("", _("All buildings") if not manage else "---------")]
                field.widget.choices += list(options)
                building_id = raw_id(self, "building")
            else:
                field.widget.choices = [("", _("Choose a community first"))]
        if "unit" in self.fields:
            units = Unit.objects.visible_to(actor).filter(
                building__community_id__in=communities.values("id")
            )
            field = self.fields["unit"]
            field.queryset = units
            field.widget.attrs["class"] = CASCADE_CLASS
            if building_id:
                options = units.filter(building_id=building_id).values_list("id", "name")
                field.widget.choices = [("", empty_unit_label or "---------"), *options]
            else:
                field.widget.choices = [("", _("Choose a building first"))]

    def clean_cascade(self, cleaned):
        community = cleaned.get("community")
        building = cleaned.get("building")
        unit = cleaned.get("unit")
        if community and building and building.community_id != community.id:
            self.add_error("building", _("The building is not in this community."))
        if building and unit and unit.building_id != building.id:
            self.add_error("unit", _("The unit does not belong to this building."))


class CommunityForm(ConsoleModelForm):
    class Meta:
        model = Community
        fields = [
            "name",
            "code",
            "kind",
            "province",
            "city",
            "district",
            "address",
            "service_phone",
        ]
        help_texts = {"code": _("Letters, digits, - and _; unique in the company.")}


class BuildingForm(ConsoleModelForm):
    class Meta:
        model = Building
        fields = ["name", "floors_above", "floors_below", "sort_order"]


class UnitForm(ConsoleModelForm):
    class Meta:
        model = Unit
        fields = ["name", "sort_order"]


class HouseFieldsMixin:
    def clean_house_fields(self, cleaned, *, building_id, unit_id, exclude_id=None):
        built, indoor = cleaned.get("built_area"), cleaned.get("indoor_area")
        if built is not None and indoor is not None and indoor > built:
            self.add_error(
                "indoor_area", _("The indoor area cannot be larger than the built-up area.")
            )
        number = cleaned.get("number")
        if number and (building_id or unit_id):
            taken = house_number_taken(
                building_id=building_id, unit_id=unit_id, number=number, exclude_id=exclude_id
            )
            if taken:
                self.add_error(
                    "number",
                    _("A house with this number already exists in this unit.")
                    if unit_id
                    else _("A house with this number already exists in this building."),
                )


class HouseCreateForm(EstateCascadeMixin, HouseFieldsMixin, ConsoleModelForm):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community")), required=True
    )

    class Meta:
        model = House
        fields = [
            "community",
            "building",
            "unit",
            "number",
            "floor",
            "built_area",
            "indoor_area",
            "kind",
            "occupancy",
        ]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_cascade(actor, manage=True, empty_unit_label=_("No unit (directly in building)"))

    def clean(self):
        cleaned = super().clean()
        self.clean_cascade(cleaned)
        building, unit = cleaned.get("building"), cleaned.get("unit")
        if building and not self.has_error("unit") and not self.has_error("building"):
            self.clean_house_fields(
                cleaned, building_id=building.id, unit_id=unit.id if unit else None
            )
        return cleaned

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("community")
        return data


class HouseEditForm(HouseFieldsMixin, ConsoleModelForm):
    class Meta:
        model = House
        fields = ["number", "floor", "built_area", "indoor_area", "kind", "occupancy"]

    def clean(self):
        cleaned = super().clean()
        house = self.instance
        self.clean_house_fields(
            cleaned, building_id=house.building_id, unit_id=house.unit_id, exclude_id=house.pk
        )
        return cleaned


class HouseFilterForm(EstateCascadeMixin, forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    building = forms.ModelChoiceField(
        queryset=Building.objects.none(), required=False, label=capfirst(_("building"))
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, label=capfirst(_("unit"))
    )
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *House.Kind.choices],
        required=False,
        label=capfirst(_("kind")),
    )
    occupancy = forms.ChoiceField(
        choices=[("", _("Any occupancy")), *House.Occupancy.choices],
        required=False,
        label=capfirst(_("occupancy")),
    )
    number = forms.CharField(
        max_length=32,
        required=False,
        label=capfirst(_("house number")),
        widget=forms.TextInput(attrs={"placeholder": _("starts with…")}),
    )
    after = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_cascade(actor, manage=False, empty_unit_label=_("All units"))

    def clean(self):
        cleaned = super().clean()
        # After the community changes, the old building/unit no longer apply: drop them.
        community, building, unit = (cleaned.get(f) for f in ("community", "building", "unit"))
        if building and community and building.community_id != community.id:
            cleaned["building"] = building = None
        if unit and (building is None or unit.building_id != building.id):
            cleaned["unit"] = None
        return cleaned

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("unit"):
            queryset = queryset.filter(unit=data["unit"])
        elif data.get("building"):
            queryset = queryset.filter(building=data["building"])
        elif data.get("community"):
            queryset = queryset.filter(community=data["community"])
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("occupancy"):
            queryset = queryset.filter(occupancy=data["occupancy"])
        if data.get("number"):
            queryset = queryset.filter(number__startswith=data["number"].strip())
        return queryset


class CommonAreaForm(EstateCascadeMixin, ConsoleModelForm):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )

    class Meta:
        model = CommonArea
        fields = ["community", "building", "name", "kind", "description"]
        help_texts = {"building": _("Leave empty for an area of the whole community.")}

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_cascade(actor, manage=True)
        if raw_id(self, "community"):
            self.fields["building"].widget.choices[0] = ("", _("Whole community"))

    def clean(self):
        cleaned = super().clean()
        self.clean_cascade(cleaned)
        community, building, name = (cleaned.get(f) for f in ("community", "building", "name"))
        if community and name and not self.has_error("building"):
            taken = common_area_name_taken(
                community_id=community.id, building_id=building.id if building else None, name=name
            )
            if taken:
                self.add_error("name", _("An area with this name already exists there."))
        return cleaned


class CommonAreaFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    after = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Community.objects.visible_to(actor)
