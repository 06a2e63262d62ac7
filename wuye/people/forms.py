"""Console forms for residents and their houses.

Houses are found by community → building → unit selects plus a typed house number,
never by a dropdown of every house.
"""

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.core.console import ConsoleModelForm
from wuye.estates.forms import EstateCascadeMixin
from wuye.estates.models import Building, Community, House, Unit
from wuye.people.models import Residency, Resident
from wuye.people.selectors import resident_mobile_taken


def house_initial(house: House) -> dict:
    """Picker values that name ``house`` (to preselect it)."""
    return {
        "community": house.community_id,
        "building": house.building_id,
        "unit": house.unit_id,
        "number": house.number,
    }


class HousePickerMixin(EstateCascadeMixin):
    """Adds community/building/unit/number fields and resolves them to one house."""

    def add_picker_fields(self, actor, *, required: bool):
        self.fields["community"] = forms.ModelChoiceField(
            queryset=Community.objects.none(), label=capfirst(_("community")), required=required
        )
        self.fields["building"] = forms.ModelChoiceField(
            queryset=Building.objects.none(), label=capfirst(_("building")), required=required
        )
        self.fields["unit"] = forms.ModelChoiceField(
            queryset=Unit.objects.none(), label=capfirst(_("unit")), required=False
        )
        self.fields["number"] = forms.CharField(
            label=capfirst(_("house number")), max_length=32, required=required
        )
        self.actor = actor
        self.init_cascade(actor, manage=True)

    def resolve_house(self, cleaned) -> House | None:
        """The one house the picker fields name, or None with an error on ``number``."""
        self.clean_cascade(cleaned)
        building, unit, number = cleaned.get("building"), cleaned.get("unit"), cleaned.get("number")
        if not building or not number or self.has_error("building") or self.has_error("unit"):
            return None
        houses = House.objects.visible_to(self.actor).filter(
            building=building, number=number.strip()
        )
        if unit is not None:
            houses = houses.filter(unit=unit)
        found = list(houses.select_related("community", "building", "unit")[:2])
        if not found:
            self.add_error("number", _("There is no house with this number there."))
            return None
        if len(found) > 1:
            self.add_error("unit", _("Several units have a house with this number; pick the unit."))
            return None
        return found[0]


class ResidentForm(ConsoleModelForm):
    """Create or edit a resident's own facts.

    Staff who may not read ID numbers never get the stored one back in the form:
    the field starts empty and leaving it empty keeps the stored number.
    """

    class Meta:
        model = Resident
        fields = ["name", "mobile", "id_number", "note"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.keeps_hidden_id = (
            self.instance.pk is not None
            and bool(self.instance.id_number)
            and not actor.has_perm("people.view_sensitive")
        )
        if self.keeps_hidden_id:
            self.initial["id_number"] = ""
            self.fields["id_number"].help_text = _(
                "Stored as %(masked)s. Leave empty to keep it; type a new one to replace it."
            ) % {"masked": self.instance.masked_id_number}

    def clean_mobile(self):
        mobile = self.cleaned_data["mobile"]
        taken = resident_mobile_taken(
            company_id=self.actor.staff.company_id, mobile=mobile, exclude_id=self.instance.pk
        )
        if taken:
            raise forms.ValidationError(_("Another resident already has this mobile."))
        return mobile

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        if self.keeps_hidden_id and not data.get("id_number"):
            data.pop("id_number")
        return data


class ResidentCreateForm(HousePickerMixin, ResidentForm):
    """A new resident together with the house they live in (optional for company-wide staff)."""

    relation = forms.ChoiceField(
        label=capfirst(_("relation")),
        choices=[("", "---------"), *Residency.Relation.choices],
        required=False,
    )
    move_in = forms.DateField(
        label=capfirst(_("move-in date")),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        self.house_required = not actor.company_wide
        self.add_picker_fields(actor, required=self.house_required)
        self.fields["relation"].required = self.house_required
        self.initial.setdefault("move_in", timezone.localdate())
        self.order_fields(
            ["name", "mobile", "id_number", "note", "community", "building", "unit", "number"]
        )

    def clean(self):
        cleaned = super().clean()
        place_given = any(cleaned.get(f) for f in ("building", "unit", "number"))
        cleaned["house"] = None
        if self.house_required or place_given:
            for field in ("community", "building", "number", "relation"):
                if not cleaned.get(field) and not self.has_error(field):
                    self.add_error(field, forms.Field.default_error_messages["required"])
            cleaned["house"] = self.resolve_house(cleaned)
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {f: data.get(f, "") for f in ("name", "mobile", "id_number", "note")}
        if data.get("house") is not None:
            kwargs.update(house=data["house"], relation=data["relation"], on=data.get("move_in"))
        return kwargs


class MoveInForm(HousePickerMixin, forms.Form):
    relation = forms.ChoiceField(label=capfirst(_("relation")), choices=Residency.Relation.choices)
    move_in = forms.DateField(
        label=capfirst(_("move-in date")), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_picker_fields(actor, required=True)
        self.initial.setdefault("move_in", timezone.localdate())
        self.order_fields(["community", "building", "unit", "number", "relation", "move_in"])

    def clean(self):
        cleaned = super().clean()
        cleaned["house"] = self.resolve_house(cleaned)
        return cleaned


class MoveOutForm(forms.Form):
    move_out = forms.DateField(
        label=capfirst(_("move-out date")), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, residency: Residency, **kwargs):
        super().__init__(*args, **kwargs)
        self.residency = residency
        self.initial.setdefault("move_out", timezone.localdate())

    def clean_move_out(self):
        day = self.cleaned_data["move_out"]
        if self.residency.move_in and day < self.residency.move_in:
            raise forms.ValidationError(
                _("The move-out date cannot be before the move-in date (%(date)s).")
                % {"date": self.residency.move_in.isoformat()}
            )
        return day


class ResidentSearchForm(forms.Form):
    q = forms.CharField(
        label=capfirst(_("search")),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name or mobile")}),
    )
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
