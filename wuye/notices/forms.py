"""Console forms of notices: the notice (community → audience → buildings, units or
houses of that community), the list's filters, uploads and the withdraw note.

Pickers stay bounded: buildings and units are those of the chosen community (the form
re-renders when the community or audience changes); houses are typed as numbers,
within a chosen building or as ``building/number``. The rules themselves are checked by
``wuye.notices.services``; its ValidationErrors land back on these forms."""

import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.audience import Audience
from wuye.estates.forms import CASCADE_CLASS, raw_id
from wuye.estates.models import Building, Community, House, Unit
from wuye.notices.models import Kind, Status

DATETIME = {"type": "datetime-local"}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
SEPARATORS = re.compile(r"[\s,，、;；]+")


def _communities(actor):
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


def _when(label, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs=DATETIME, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


class NoticeForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community")), required=False
    )
    audience = forms.ChoiceField(label=capfirst(_("audience")), choices=Audience.choices)
    buildings = forms.ModelMultipleChoiceField(
        queryset=Building.objects.none(),
        label=capfirst(_("buildings")),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    units = forms.ModelMultipleChoiceField(
        queryset=Unit.objects.none(),
        label=capfirst(_("units")),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    house_building = forms.ModelChoiceField(
        queryset=Building.objects.none(),
        label=capfirst(_("houses in building")),
        required=False,
        help_text=_(
            "Pick a building and type its house numbers, or leave it empty and type "
            "building/number, e.g. 1栋/0101."
        ),
    )
    house_numbers = forms.CharField(
        label=capfirst(_("house numbers")),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "0101 0102 0203"}),
        help_text=_("Separated by spaces, commas or new lines."),
    )
    kind = forms.ChoiceField(label=capfirst(_("type")), choices=Kind.choices)
    title = forms.CharField(label=capfirst(_("title")), max_length=120)
    body = forms.CharField(
        label=capfirst(_("text")), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )
    is_emergency = forms.BooleanField(
        label=_("Urgent: shown first when residents next open the app, and sent by SMS"),
        required=False,
    )
    is_pinned = forms.BooleanField(label=_("Pinned to the top of the list"), required=False)
    event_starts_at = _when(capfirst(_("affected from")), _("e.g. when the water goes off"))
    event_ends_at = _when(capfirst(_("affected until")))
    publish_at = _when(
        capfirst(_("publish at")), _("Leave empty to publish when you press Publish.")
    )
    expires_at = _when(capfirst(_("expires at")), _("Residents no longer see it afterwards."))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        communities = _communities(actor)
        self.fields["community"].queryset = communities
        self.fields["community"].widget.attrs["class"] = CASCADE_CLASS
        self.fields["audience"].widget.attrs["class"] = CASCADE_CLASS
        if not actor.company_wide:
            self.fields["audience"].choices = [
                c for c in Audience.choices if c[0] != Audience.COMPANY
            ]
        community_id = raw_id(self, "community")
        audience = self._raw("audience") or Audience.COMMUNITY
        buildings = Building.objects.filter(community_id__in=communities.values("id"))
        units = Unit.objects.filter(building__community_id__in=communities.values("id"))
        self.fields["buildings"].queryset = buildings
        self.fields["units"].queryset = units.select_related("building")
        self.fields["house_building"].queryset = buildings
        mine = buildings.filter(community_id=community_id) if community_id else buildings.none()
        self.fields["buildings"].choices = list(mine.values_list("id", "name"))
        self.fields["units"].choices = [
            (u.pk, f"{u.building.name} {u.name}")
            for u in units.filter(building__community_id=community_id or 0)
            .select_related("building")
            .order_by("building__sort_order", "building_id", "name", "id")
        ]
        self.fields["house_building"].choices = [
            ("", _("Any building (type building/number)")),
            *mine.values_list("id", "name"),
        ]
        # Show only the picker the audience uses.
        shown = {
            Audience.BUILDINGS: ("buildings",),
            Audience.UNITS: ("units",),
            Audience.HOUSES: ("house_building", "house_numbers"),
        }.get(audience, ())
        for name in ("buildings", "units", "house_building", "house_numbers"):
            if name not in shown:
                self.fields[name].widget = (
                    forms.MultipleHiddenInput()
                    if name
                    in (
                        "buildings",
                        "units",
                    )
                    else forms.HiddenInput()
                )
        if not community_id and audience != Audience.COMPANY:
            self.fields["buildings"].help_text = _("Choose a community first")

    def _raw(self, name):
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name)

    def clean(self):
        data = super().clean()
        audience = data.get("audience")
        community = data.get("community")
        if audience == Audience.COMPANY:
            data["community"] = None
        elif audience and community is None and not self.has_error("community"):
            self.add_error("community", _("Choose a community."))
        data["houses"] = []
        if audience == Audience.HOUSES and community is not None:
            data["houses"] = self._resolve_houses(community, data)
        return data

    def _resolve_houses(self, community, data) -> list:
        tokens = [t for t in SEPARATORS.split(data.get("house_numbers") or "") if t]
        if not tokens:
            self.add_error("house_numbers", _("Type at least one house number."))
            return []
        building = data.get("house_building")
        if building is not None and building.community_id != community.id:
            self.add_error("house_building", _("The building is not in this community."))
            return []
        houses = House.objects.filter(community=community)
        found, missing, ambiguous = [], [], []
        names = dict(Building.objects.filter(community=community).values_list("name", "id"))
        for token in dict.fromkeys(tokens):
            candidates = houses
            number = token
            if building is not None:
                candidates = candidates.filter(building=building)
            elif "/" in token:
                name, _slash, number = token.rpartition("/")
                candidates = candidates.filter(building_id=names.get(name.strip(), 0))
            matches = list(candidates.filter(number=number.strip())[:2])
            if not matches:
                missing.append(token)
            elif len(matches) > 1:
                ambiguous.append(token)
            else:
                found.append(matches[0])
        if missing:
            self.add_error(
                "house_numbers",
                _("No such house in this community: %(numbers)s") % {"numbers": " ".join(missing)},
            )
        if ambiguous:
            self.add_error(
                "house_numbers",
                _(
                    "These numbers are in several buildings or units; pick the building or type "
                    "building/number: %(numbers)s"
                )
                % {"numbers": " ".join(ambiguous)},
            )
        return found

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "community": data.get("community"),
            "audience": data["audience"],
            "buildings": list(data.get("buildings") or ()),
            "units": list(data.get("units") or ()),
            "houses": data.get("houses") or [],
            "kind": data["kind"],
            "title": data["title"],
            "body": data["body"],
            "is_emergency": data["is_emergency"],
            "is_pinned": data["is_pinned"],
            "event_starts_at": data.get("event_starts_at"),
            "event_ends_at": data.get("event_ends_at"),
            "publish_at": data.get("publish_at"),
            "expires_at": data.get("expires_at"),
        }


def notice_initial(notice) -> dict:
    houses = list(notice.houses.select_related("building"))
    buildings = {h.building_id for h in houses}
    if len(buildings) == 1:
        house_building, numbers = houses[0].building_id, " ".join(h.number for h in houses)
    else:
        house_building, numbers = None, " ".join(f"{h.building.name}/{h.number}" for h in houses)
    return {
        "community": notice.community_id,
        "audience": notice.audience,
        "buildings": list(notice.buildings.values_list("id", flat=True)),
        "units": list(notice.units.values_list("id", flat=True)),
        "house_building": house_building,
        "house_numbers": numbers,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "is_emergency": notice.is_emergency,
        "is_pinned": notice.is_pinned,
        "event_starts_at": notice.event_starts_at,
        "event_ends_at": notice.event_ends_at,
        "publish_at": notice.publish_at,
        "expires_at": notice.expires_at,
    }


class NoticeFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    kind = forms.ChoiceField(
        label=capfirst(_("type")), required=False, choices=[("", _("Any type")), *Kind.choices]
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[("", _("Any status")), *Status.choices],
    )
    q = forms.CharField(label=capfirst(_("title")), max_length=60, required=False)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def filter(self, notices):
        data = self.cleaned_data
        if data.get("community") is not None:
            notices = notices.filter(community=data["community"])
        if data.get("kind"):
            notices = notices.filter(kind=data["kind"])
        if data.get("status"):
            notices = notices.filter(status=data["status"])
        if data.get("q"):
            notices = notices.filter(title__icontains=data["q"].strip())
        return notices


class ReceiptFilterForm(forms.Form):
    building = forms.TypedChoiceField(
        label=capfirst(_("building")), required=False, coerce=int, empty_value=None
    )
    read = forms.ChoiceField(
        label=capfirst(_("read")),
        required=False,
        choices=[("", _("All households")), ("yes", _("Read")), ("no", _("Not read yet"))],
    )

    def __init__(self, data, *, buildings, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["building"].choices = [
            ("", _("All buildings")),
            *[(row["building_id"], row["name"]) for row in buildings],
        ]

    def values(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        read = {"yes": True, "no": False}.get(data.get("read") or "")
        return {"building_id": data.get("building"), "read": read}


class AttachmentForm(forms.Form):
    file = forms.FileField(label=capfirst(_("file")))


class PhotoForm(forms.Form):
    photo = forms.FileField(label=capfirst(_("image")))


class WithdrawForm(forms.Form):
    note = forms.CharField(label=capfirst(_("reason")), max_length=200, required=False)
