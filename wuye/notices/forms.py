"""Console forms of notices: the notice (community → audience → buildings, units or
houses of that community), the list's filters, uploads and the withdraw note.

Pickers stay bounded: buildings and units are those of the chosen community (the form
re-renders when the community or audience changes); houses are typed as numbers,
within a chosen building or as ``building/number``. The rules themselves are checked by
``wuye.notices.services``; its ValidationErrors land back on these forms."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.audience_forms import AudienceForm, actor_communities
from wuye.estates.models import Community
from wuye.notices.models import Kind, Status

DATETIME = {"type": "datetime-local"}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


def _when(label, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs=DATETIME, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


class NoticeForm(AudienceForm):
    house_building_help = _(
        "Pick a building and type its house numbers, or leave it empty and type "
        "building/number, e.g. 1栋/0101."
    )
    house_numbers_help = _("Separated by spaces, commas or new lines.")
    house_numbers_placeholder = "0101 0102 0203"
    missing_message = _("No such house in this community: %(numbers)s")
    ambiguous_message = _(
        "These numbers are in several buildings or units; pick the building or type "
        "building/number: %(numbers)s"
    )
    hint_fields = ("buildings",)

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
        self.fields["community"].queryset = actor_communities(actor)

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
