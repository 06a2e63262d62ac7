"""Forms of the activity pages (console, check-in phone page, resident H5). They check
input and resolve ids to rows the actor may use; the rules live in
``wuye.activities.services`` whose ValidationErrors land back on these forms."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.activities.models import Activity, Status
from wuye.activities.selectors import PARTICIPANT_STATUSES
from wuye.estates.audience_forms import actor_communities
from wuye.estates.forms import CASCADE_CLASS, raw_id
from wuye.estates.models import Building, Community, House, Unit

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _when(label, help_text=""):
    return forms.DateTimeField(
        label=label, widget=DATETIME, input_formats=DATETIME_FORMATS, help_text=help_text
    )


class PhotosInput(forms.FileInput):
    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"accept": "image/*", **(attrs or {})})


class UploadsField(forms.Field):
    """The uploaded files as a list (each is checked by ``save_photo``)."""

    widget = PhotosInput

    def to_python(self, data):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [upload for upload in files if upload]


class ActivityForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    title = forms.CharField(label=capfirst(_("title")), max_length=120)
    place = forms.CharField(
        label=capfirst(_("place")),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 中心花园 or the clubhouse")}),
    )
    starts_at = _when(capfirst(_("starts at")))
    ends_at = _when(capfirst(_("ends at")))
    capacity = forms.IntegerField(
        label=capfirst(_("places")), min_value=1, help_text=_("People, not households.")
    )
    max_party_size = forms.IntegerField(
        label=capfirst(_("people per household")),
        min_value=1,
        max_value=20,
        initial=4,
        help_text=_("The most one household may bring."),
    )
    signup_deadline = _when(capfirst(_("sign-up closes at")))
    cancel_deadline = _when(
        capfirst(_("cancellations close at")),
        _("After this, residents can no longer cancel online; the office still can."),
    )
    description = forms.CharField(
        label=capfirst(_("description")),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, actor, activity=None, **kwargs):
        super().__init__(*args, **kwargs)
        communities = actor_communities(actor)
        self.fields["community"].queryset = communities
        if activity is not None:
            self.fields["community"].disabled = True
        elif not self.is_bound and len(communities) == 1:
            self.initial.setdefault("community", communities[0].pk)

    def changes(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "community"}


class ActivityFilterForm(forms.Form):
    UPCOMING, PAST = "upcoming", "past"
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[("", _("Any status")), *Status.choices],
    )
    when = forms.ChoiceField(
        label=_("When"),
        required=False,
        choices=[("", _("Any time")), (UPCOMING, _("Upcoming")), (PAST, _("Past"))],
    )
    q = forms.CharField(label=_("Search"), max_length=50, required=False)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = actor_communities(actor)
        self.fields["q"].widget.attrs["placeholder"] = _("Title or place")

    def filter(self, queryset, now):
        data = self.cleaned_data
        if data.get("community") is not None:
            queryset = queryset.filter(community=data["community"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("when") == self.UPCOMING:
            queryset = queryset.filter(ends_at__gt=now)
        elif data.get("when") == self.PAST:
            queryset = queryset.filter(ends_at__lte=now)
        q = (data.get("q") or "").strip()
        if q:
            queryset = queryset.filter(title__contains=q) | queryset.filter(place__contains=q)
        return queryset


class ParticipantFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[
            ("", _("Everyone")),
            (PARTICIPANT_STATUSES[0], _("Confirmed")),
            (PARTICIPANT_STATUSES[1], _("On the waitlist")),
            (PARTICIPANT_STATUSES[2], _("Cancelled")),
            (PARTICIPANT_STATUSES[3], _("Checked in")),
            (PARTICIPANT_STATUSES[4], _("Confirmed, not checked in")),
        ],
    )
    q = forms.CharField(label=_("Search"), max_length=30, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("House number, contact or mobile")


class CancelActivityForm(forms.Form):
    reason = forms.CharField(
        label=capfirst(_("reason for cancelling")),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. heavy rain forecast")}),
        help_text=_("Sent to every household signed up."),
    )


class RecapForm(forms.Form):
    recap = forms.CharField(
        label=capfirst(_("recap")),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = UploadsField(
        label=capfirst(_("recap photos")),
        required=False,
        help_text=_("Up to 9 photos in all (JPEG, PNG or WebP)."),
    )


class SignupCancelForm(forms.Form):
    reason = forms.CharField(label=capfirst(_("reason")), max_length=200, required=False)


class StaffSignupForm(forms.Form):
    """A household signed up by the front desk: building → unit → house number in the
    activity's community (no dropdown of every house), the party and a contact."""

    building = forms.ModelChoiceField(
        queryset=Building.objects.none(), label=capfirst(_("building"))
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), label=capfirst(_("unit")), required=False
    )
    number = forms.CharField(label=capfirst(_("house number")), max_length=32)
    party_size = forms.IntegerField(label=capfirst(_("people")), min_value=1)
    contact_name = forms.CharField(label=capfirst(_("contact")), max_length=50)
    contact_mobile = forms.CharField(label=capfirst(_("mobile")), max_length=20, required=False)
    note = forms.CharField(label=capfirst(_("note")), max_length=200, required=False)

    def __init__(self, *args, activity: Activity, **kwargs):
        super().__init__(*args, **kwargs)
        self.activity = activity
        buildings = Building.objects.filter(community_id=activity.community_id).order_by(
            "sort_order", "id"
        )
        self.fields["building"].queryset = buildings
        self.fields["building"].widget.attrs["class"] = CASCADE_CLASS
        units = Unit.objects.filter(building__community_id=activity.community_id)
        self.fields["unit"].queryset = units
        building_id = raw_id(self, "building")
        if building_id:
            options = units.filter(building_id=building_id).values_list("id", "name")
            self.fields["unit"].widget.choices = [("", "---------"), *options]
        else:
            self.fields["unit"].widget.choices = [("", _("Choose a building first"))]
        self.fields["party_size"].max_value = activity.max_party_size
        self.fields["party_size"].widget.attrs["max"] = activity.max_party_size
        self.fields["party_size"].help_text = _("1 to %(n)d people.") % {
            "n": activity.max_party_size
        }

    def clean(self):
        data = super().clean()
        building, unit, number = data.get("building"), data.get("unit"), data.get("number")
        if building and unit and unit.building_id != building.id:
            self.add_error("unit", _("The unit does not belong to this building."))
            return data
        if not building or not number:
            return data
        houses = House.objects.filter(
            community_id=self.activity.community_id, building=building, number=number.strip()
        )
        if unit is not None:
            houses = houses.filter(unit=unit)
        found = list(houses.select_related("community", "building", "unit")[:2])
        if not found:
            self.add_error("number", _("There is no house with this number there."))
        elif len(found) > 1:
            self.add_error("unit", _("Several units have a house with this number; pick the unit."))
        else:
            data["house"] = found[0]
        return data


class CheckInForm(forms.Form):
    attended_people = forms.IntegerField(label=_("People who came"), min_value=1)

    def __init__(self, *args, signup=None, **kwargs):
        super().__init__(*args, **kwargs)
        if signup is not None:
            field = self.fields["attended_people"]
            field.max_value = signup.party_size
            field.initial = signup.party_size
            field.widget.attrs.update({"max": signup.party_size, "inputmode": "numeric"})


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Ticket code"), max_length=200)

    def clean_code(self):
        """A typed code, or the whole check-in URL scanned by another app."""
        code = self.cleaned_data["code"].strip().rstrip("/")
        return code.rsplit("/", 1)[-1]


class ResidentSignupForm(forms.Form):
    house = forms.TypedChoiceField(label=capfirst(_("house")), coerce=int)
    party_size = forms.TypedChoiceField(label=_("How many people will come?"), coerce=int)
    note = forms.CharField(
        label=capfirst(_("note")),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. one child, a wheelchair")}),
    )

    def __init__(self, *args, activity: Activity, houses, **kwargs):
        super().__init__(*args, **kwargs)
        self.houses = {house.pk: house for house in houses}
        self.fields["house"].choices = [(h.pk, h.address) for h in houses]
        if len(houses) == 1:
            self.fields["house"].widget = forms.HiddenInput()
            self.initial.setdefault("house", houses[0].pk)
        self.fields["party_size"].choices = [
            (n, str(n)) for n in range(1, activity.max_party_size + 1)
        ]

    def clean_house(self):
        return self.houses[self.cleaned_data["house"]]

    def hidden_errors_to_top(self):
        """A single house is a hidden field: its errors are shown above the form."""
        if isinstance(self.fields["house"].widget, forms.HiddenInput) and "house" in self.errors:
            for error in self.errors.pop("house"):
                self.add_error(None, error)
