"""Forms of the conduct spot checks: the phone form an inspector fills in, the console
filters, the scorecard filters and the checklist editor. They shape input; the services
in ``wuye.quality.spot_checks`` decide and write."""

from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.core.console import ConsoleModelForm
from wuye.estates.models import Community
from wuye.quality.models import ConductAspect, ConductItem
from wuye.quality.scorecard import default_range
from wuye.staff.models import StaffMember
from wuye.workorders.forms_mobile import PhotosField

MAX_DAYS = 366


def _actor_communities(actor):
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


# --- the phone form -------------------------------------------------------------------------
class SpotCheckForm(forms.Form):
    """Community, staff member (chosen from the search results), place, one 符合/不符合
    toggle per active checklist item (符合 by default) with a note when failed, photos
    and an overall note. Field names of the lines: ``kept_<item id>``, ``note_<item id>``."""

    KEPT, FAILED = "1", "0"

    community = forms.ModelChoiceField(
        label=capfirst(_("community")),
        queryset=Community.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your communities.")},
    )
    subject = forms.IntegerField(
        label=_("Staff member checked"),
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
        error_messages={"required": _("Choose the staff member you checked.")},
    )
    place = forms.CharField(label=_("Place"), max_length=100, required=False)
    photos = PhotosField()
    note = forms.CharField(
        label=_("Overall note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, actor, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.items = list(items)
        self.fields["community"].queryset = _actor_communities(actor)
        for item in self.items:
            self.fields[self.kept_name(item)] = forms.ChoiceField(
                label=item.text,
                choices=[(self.KEPT, _("Meets (符合)")), (self.FAILED, _("Fails (不符合)"))],
                initial=self.KEPT,
                widget=forms.RadioSelect(attrs={"class": "ok-abnormal"}),
            )
            self.fields[self.note_name(item)] = forms.CharField(
                label=_("What was wrong"), max_length=200, required=False
            )

    @staticmethod
    def kept_name(item) -> str:
        return f"kept_{item.pk}"

    @staticmethod
    def note_name(item) -> str:
        return f"note_{item.pk}"

    def clean_subject(self):
        """The staff member of the actor's company with that id; whether they work in
        the community is the service's to say."""
        pk = self.cleaned_data["subject"]
        member = StaffMember.objects.filter(pk=pk, company_id=self.actor.staff.company_id).first()
        if member is None:
            raise forms.ValidationError(_("Choose a staff member of this community."))
        return member

    def groups(self):
        """[(aspect label, [(item, toggle, note field), …]), …] in the code's order."""
        by_aspect = {aspect.value: [] for aspect in ConductAspect}
        for item in self.items:
            by_aspect[item.aspect].append(
                (item, self[self.kept_name(item)], self[self.note_name(item)])
            )
        return [
            (aspect.label, by_aspect[aspect.value])
            for aspect in ConductAspect
            if by_aspect[aspect.value]
        ]

    def marks(self) -> list[dict]:
        return [
            {
                "item": item.pk,
                "kept": self.cleaned_data[self.kept_name(item)] == self.KEPT,
                "note": self.cleaned_data.get(self.note_name(item), ""),
            }
            for item in self.items
        ]


class StaffSearchForm(forms.Form):
    community = forms.ModelChoiceField(queryset=Community.objects.none(), required=False)
    q = forms.CharField(max_length=50, required=False, strip=True)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _actor_communities(actor)


# --- console filters ------------------------------------------------------------------------
class RangeForm(forms.Form):
    """A range of local days, the last ``DEFAULT_DAYS`` unless given; the community
    filter offers the reader's communities."""

    date_from = forms.DateField(
        label=capfirst(_("from")), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=capfirst(_("until")), widget=forms.DateInput(attrs={"type": "date"})
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )

    def __init__(self, data, *, actor, **kwargs):
        data = data.copy()
        if not data.get("date_from") and not data.get("date_to"):
            first, last = default_range()
            data["date_from"], data["date_to"] = first.isoformat(), last.isoformat()
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _actor_communities(actor)

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if last < first:
                self.add_error("date_to", _("The range must end on or after its first day."))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("date_to", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        return data


class SpotCheckFilterForm(RangeForm):
    staff = forms.CharField(
        label=_("Staff member"),
        max_length=50,
        required=False,
        help_text=_("Name or username."),
    )
    aspect = forms.ChoiceField(
        label=_("Failing in"),
        choices=[("", _("Any aspect")), *ConductAspect.choices],
        required=False,
    )
    score_below = forms.DecimalField(
        label=_("Score below"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=4,
        decimal_places=1,
        required=False,
    )


class ScorecardFilterForm(RangeForm):
    q = forms.CharField(
        label=_("Staff member"), max_length=50, required=False, help_text=_("Name or username.")
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        choices=[
            ("combined", _("Combined score, highest first")),
            ("-combined", _("Combined score, lowest first")),
            ("name", _("Name")),
        ],
        required=False,
    )


# --- the checklist editor -------------------------------------------------------------------
class ConductItemForm(ConsoleModelForm):
    class Meta:
        model = ConductItem
        fields = ["aspect", "rule_set", "text", "points"]
