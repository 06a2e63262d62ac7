"""The filters of the complaint analytics: the facilities reports' range of days and
community (``ReportFilterForm``) without its round kind, over the last twelve months
by default so the monthly trend has something to show."""

import datetime

from django.utils import timezone

from wuye.facilities.forms_reports import ReportFilterForm


def default_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of the month eleven months ago, through today."""
    month = today.replace(day=1)
    for _ in range(11):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return month, today


class ComplaintFilterForm(ReportFilterForm):
    kind = None
    group = None

    def __init__(self, data, *, actor, **kwargs):
        data = data.copy()
        first, last = default_range(timezone.localdate())
        if not data.get("date_from"):
            data["date_from"] = first.isoformat()
        if not data.get("date_to"):
            data["date_to"] = last.isoformat()
        super().__init__(data, actor=actor, **kwargs)

    def scope_kwargs(self) -> dict:
        """The arguments of ``figures.scope_for`` the filters chose."""
        data = self.cleaned_data
        return {"first": data["date_from"], "last": data["date_to"], "community": data["community"]}
