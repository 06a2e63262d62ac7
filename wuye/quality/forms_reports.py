"""Forms of the service reports page: the list filters, "generate now", and the range
of the Excel reports (the facilities reports' range and community, as the complaint
analytics use them, last month by default)."""

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing.money import month_end
from wuye.estates.models import Community
from wuye.facilities.forms_reports import ReportFilterForm
from wuye.quality.reports import last_month

MONTH = {"type": "month"}
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


def _communities(actor):
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


def _month_field(**kwargs):
    return forms.DateField(
        label=capfirst(_("month")),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
        **kwargs,
    )


class ReportListForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    month = _month_field(required=False)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def filter(self, reports):
        data = self.cleaned_data
        if data["community"] is not None:
            reports = reports.filter(community=data["community"])
        if data["month"] is not None:
            reports = reports.filter(month=data["month"].replace(day=1))
        return reports


class GenerateForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    month = _month_field(help_text=_("This month so far, or a past month."))

    def __init__(self, data=None, *, actor, **kwargs):
        kwargs.setdefault("initial", {"month": last_month()})
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _communities(actor)


class ExcelReportForm(ReportFilterForm):
    """A range of days (last month by default) and one of the reader's communities."""

    kind = None
    group = None

    def __init__(self, data, *, actor, **kwargs):
        data = data.copy()
        if not data.get("date_from") and not data.get("date_to"):
            first = last_month(timezone.localdate())
            data["date_from"], data["date_to"] = first.isoformat(), month_end(first).isoformat()
        super().__init__(data, actor=actor, **kwargs)

    def describe(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        return [
            (str(_("From")), data["date_from"].isoformat()),
            (str(_("Until")), data["date_to"].isoformat()),
            (str(capfirst(_("community"))), str(data["community"] or _("All communities"))),
        ]
