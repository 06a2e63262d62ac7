"""The filters of the complaint analytics: the facilities reports' range of days and
community (``ReportFilterForm``) without its round kind, over this month and the 11
before by default (as the quality dashboard), so the monthly trend has something to
show. A missing end of the range is filled in alone (the API may send one date)."""

from django.utils import timezone

from wuye.billing.selectors import months_back
from wuye.facilities.forms_reports import ReportFilterForm

DEFAULT_MONTHS = 12  # this month and the 11 before


class ComplaintFilterForm(ReportFilterForm):
    kind = None
    group = None

    def __init__(self, data, *, actor, **kwargs):
        data = data.copy()
        today = timezone.localdate()
        if not data.get("date_from"):
            data["date_from"] = months_back(today, DEFAULT_MONTHS).isoformat()
        if not data.get("date_to"):
            data["date_to"] = today.isoformat()
        super().__init__(data, actor=actor, **kwargs)

    def scope_kwargs(self) -> dict:
        """The arguments of ``figures.scope_for`` the filters chose."""
        data = self.cleaned_data
        return {"first": data["date_from"], "last": data["date_to"], "community": data["community"]}
