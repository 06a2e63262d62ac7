"""The audience part of the console forms that target residents (notices, surveys, votes):
community → audience → buildings, units or houses of that community.

Pickers stay bounded: buildings and units are those of the chosen community (the form
re-renders through HTMX when the community or audience changes); houses are typed as
numbers, within a chosen building or as ``building/number``, and resolved here to
``cleaned_data["houses"]``. Whether the sender may reach them is checked by the services
(``wuye.estates.audience.check_audience``)."""

import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.audience import Audience
from wuye.estates.forms import CASCADE_CLASS, raw_id
from wuye.estates.models import Building, Community, House, Unit

SEPARATORS = re.compile(r"[\s,，、;；]+")
PICKERS = ("buildings", "units", "house_building", "house_numbers")
MULTIPLE_PICKERS = ("buildings", "units")


def actor_communities(actor):
    """The communities the actor works in, by name: the bounded community choices."""
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


class AudienceForm(forms.Form):
    """Base form with the audience fields; subclasses add their own fields after them.

    Subclasses set the house pickers' texts, the message for numbers that match no single
    house, and (``ambiguous_message``) whether numbers found in several buildings get a
    message of their own; ``hint_fields`` are the pickers that say "Choose a community
    first" while no community is chosen."""

    house_building_help = ""
    house_numbers_help = ""
    house_numbers_placeholder = ""
    missing_message = ""
    ambiguous_message = None
    hint_fields = PICKERS

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
        queryset=Building.objects.none(), label=capfirst(_("houses in building")), required=False
    )
    house_numbers = forms.CharField(
        label=capfirst(_("house numbers")),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["house_building"].help_text = self.house_building_help
        self.fields["house_numbers"].help_text = self.house_numbers_help
        self.fields["house_numbers"].widget.attrs["placeholder"] = self.house_numbers_placeholder
        communities = actor_communities(actor)
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
        mine = buildings.filter(community_id=community_id or 0).order_by("sort_order", "id")
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
        for name in PICKERS:
            if name not in shown:
                self.fields[name].widget = (
                    forms.MultipleHiddenInput() if name in MULTIPLE_PICKERS else forms.HiddenInput()
                )
        if shown and not community_id and shown[0] in self.hint_fields:
            self.fields[shown[0]].help_text = _("Choose a community first")

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
        names = dict(Building.objects.filter(community=community).values_list("name", "id"))
        found, missing, ambiguous = [], [], []
        for token in dict.fromkeys(tokens):
            candidates, number = House.objects.filter(community=community), token
            if building is not None:
                candidates = candidates.filter(building=building)
            elif "/" in token:
                name, _slash, number = token.rpartition("/")
                candidates = candidates.filter(building_id=names.get(name.strip(), 0))
            matches = list(candidates.filter(number=number.strip())[:2])
            if len(matches) == 1:
                found.append(matches[0])
            elif matches and self.ambiguous_message:
                ambiguous.append(token)
            else:
                missing.append(token)
        if missing:
            self.add_error("house_numbers", self.missing_message % {"numbers": " ".join(missing)})
        if ambiguous:
            self.add_error(
                "house_numbers", self.ambiguous_message % {"numbers": " ".join(ambiguous)}
            )
        return found
