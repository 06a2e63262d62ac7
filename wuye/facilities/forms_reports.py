"""The filters every facilities report shares: a range of days (the last 30 by
default), a community of the reader's and a round kind."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.estates.models import Community
from wuye.facilities.models import RoundKind
from wuye.facilities.reports import GROUPS, Period

DEFAULT_DAYS = 30
MAX_DAYS = 366


class ReportFilterForm(forms.Form):
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
    kind = forms.ChoiceField(
        choices=[("", _("All kinds")), *RoundKind.choices],
        required=False,
        label=capfirst(_("round kind")),
    )
    group = forms.ChoiceField(
        choices=[(g, g) for g in GROUPS], required=False, widget=forms.HiddenInput
    )

    def __init__(self, data, *, actor, **kwargs):
        """``data`` is the query string; the range defaults to the last 30 days."""
        data = data.copy()
        today = timezone.localdate()
        if not data.get("date_from") and not data.get("date_to"):
            data["date_from"] = (today - datetime.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
            data["date_to"] = today.isoformat()
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(
            id__in=sorted(actor.community_ids)
        ).order_by("name", "id")

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if last < first:
                self.add_error("date_to", _("The range must end on or after its first day."))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("date_to", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["date_from"], self.cleaned_data["date_to"])

    def problems(self) -> str:
        """The errors in one line (for a 400 answer)."""
        return "; ".join(
            f"{self.fields[f].label if f in self.fields else ''}: {' '.join(e)}"
            for f, e in self.errors.items()
        )
