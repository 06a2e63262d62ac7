"""Forms of the emergency pages: the list filters, the report (console and phone),
updates and the status actions. Forms validate input and resolve ids to rows the
actor may use; every write goes through ``wuye.incidents.services``."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.forms import CASCADE_CLASS, raw_id
from wuye.estates.models import Building, Community
from wuye.facilities.models import Asset
from wuye.incidents.models import ACTIVE_STATUSES, Kind, Severity, Status
from wuye.incidents.playbook import PLAYBOOK

ACTIVE = "active"
AUTO, YES, NO = "auto", "yes", "no"


def _communities(actor):
    return Community.objects.visible_to(actor).filter(id__in=sorted(actor.community_ids))


class IncidentFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), (ACTIVE, _("Active")), *Status.choices],
        required=False,
        label=capfirst(_("status")),
    )
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *Kind.choices], required=False, label=capfirst(_("kind"))
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    after = forms.RegexField(regex=r"^[01]-\d{1,18}$", required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def filter(self, queryset):
        data = self.cleaned_data
        if data["status"] == ACTIVE:
            queryset = queryset.filter(status__in=ACTIVE_STATUSES)
        elif data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["community"]:
            queryset = queryset.filter(community=data["community"])
        return queryset


class BuildingChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name  # the community is chosen above


class ReportForm(forms.Form):
    """Report an emergency. Changing the community or the kind re-renders the form
    (the buildings to choose from, the kind's default for residents)."""

    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    kind = forms.ChoiceField(choices=Kind.choices, label=capfirst(_("kind")))
    severity = forms.ChoiceField(
        choices=Severity.choices, initial=Severity.MAJOR, label=capfirst(_("severity"))
    )
    buildings = BuildingChoiceField(
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=capfirst(_("affected buildings")),
        help_text=_("None chosen: the whole community is affected."),
    )
    location = forms.CharField(
        max_length=200,
        required=False,
        label=capfirst(_("exact spot")),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 3栋 lift 2, car park B2")}),
    )
    asset_code = forms.CharField(
        max_length=24,
        required=False,
        label=capfirst(_("equipment code")),
        help_text=_("Optional: the code on the equipment's label, e.g. DT-0001."),
    )
    description = forms.CharField(
        max_length=2000,
        label=capfirst(_("what happened")),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    residents = forms.ChoiceField(
        choices=[(AUTO, ""), (YES, _("Tell them now")), (NO, _("Do not tell them"))],
        initial=AUTO,
        widget=forms.RadioSelect,
        label=capfirst(_("residents of the affected area")),
    )
    residents_message = forms.CharField(
        max_length=2000,
        required=False,
        label=capfirst(_("message to residents")),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Empty: the usual advice for this kind (shown greyed)."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        communities = _communities(actor)
        self.fields["community"].queryset = communities
        self.fields["community"].widget.attrs["class"] = CASCADE_CLASS
        self.fields["kind"].widget.attrs["class"] = CASCADE_CLASS
        if not self.is_bound and "community" not in self.initial and len(communities) == 1:
            self.initial["community"] = communities[0].pk
        community_id = raw_id(self, "community")
        self.fields["buildings"].queryset = Building.objects.filter(
            community_id=community_id, community__in=communities
        ).order_by("sort_order", "id")
        if not community_id:
            self.fields["buildings"].help_text = _("Choose a community first.")
        play = PLAYBOOK.get(self._value("kind") or Kind.WATER_OUTAGE)
        if play is not None:
            usual = (
                _("As usual for this kind (tell them)")
                if play.tell_residents
                else _("As usual for this kind (do not tell them)")
            )
            self.fields["residents"].choices = [
                (AUTO, usual),
                *self.fields["residents"].choices[1:],
            ]
            self.fields["residents_message"].widget.attrs["placeholder"] = play.advice

    def _value(self, name):
        return self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)

    def clean(self):
        cleaned = super().clean()
        community, code = cleaned.get("community"), cleaned.get("asset_code", "").strip()
        cleaned["asset"] = None
        if community is not None and code:
            # The community is one of the actor's (the field's queryset), so are its assets.
            cleaned["asset"] = Asset.objects.filter(community=community, code=code).first()
            if cleaned["asset"] is None:
                self.add_error("asset_code", _("No equipment with this code in this community."))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "community": data["community"],
            "kind": data["kind"],
            "severity": data["severity"],
            "buildings": list(data["buildings"]),
            "asset": data["asset"],
            "location": data["location"],
            "description": data["description"],
            "tell_residents": {AUTO: None, YES: True, NO: False}[data["residents"]],
            "residents_message": data["residents_message"],
        }


class UpdateForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        label=capfirst(_("update")),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    tell_residents = forms.BooleanField(
        required=False,
        label=_("Also send it to the residents of the affected area"),
    )

    def __init__(self, *args, may_tell_residents: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_tell_residents:
            del self.fields["tell_residents"]


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        required=False,
        label=capfirst(_("note")),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        label=capfirst(_("what was done")),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    tell_residents = forms.BooleanField(
        required=False, label=_("Tell the residents of the affected area")
    )
    residents_message = forms.CharField(
        max_length=2000,
        required=False,
        label=capfirst(_("message to residents")),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, incident, residents_told: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tell_residents"].initial = residents_told
        self.fields["residents_message"].widget.attrs["placeholder"] = PLAYBOOK[
            incident.kind
        ].all_clear


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label=capfirst(_("why is it a false alarm")),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
