"""Forms of the quality dashboard: its filters (the facilities reports' range and
community, plus a team and a person) and the company's quality settings."""

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing.selectors import months_back
from wuye.facilities.forms_reports import ReportFilterForm
from wuye.quality import figures
from wuye.quality.models import QualitySettings
from wuye.quality.services import SETTINGS_FIELDS
from wuye.staff.models import StaffMember, Trade

DEFAULT_MONTHS = 12  # the default range: this month and the 11 before


class DashboardFilterForm(ReportFilterForm):
    """A range of days (this month and the 11 before by default, at most 366 days), a
    community of the reader's, a team (trade) and a person (employee number or exact
    name, so no list of every employee is sent)."""

    kind = None
    group = None
    team = forms.ModelChoiceField(
        queryset=Trade.objects.none(),
        required=False,
        label=capfirst(_("team")),
        empty_label=_("All teams"),
    )
    person = forms.CharField(
        required=False,
        max_length=50,
        label=capfirst(_("person")),
        widget=forms.TextInput(attrs={"placeholder": _("Employee no. or name")}),
    )

    def __init__(self, data, *, actor, **kwargs):
        data = data.copy()
        if not data.get("date_from") and not data.get("date_to"):
            today = timezone.localdate()
            data["date_from"] = months_back(today, DEFAULT_MONTHS).isoformat()
            data["date_to"] = today.isoformat()
        super().__init__(data, actor=actor, **kwargs)
        self.actor = actor
        company_id = actor.staff.company_id if actor.staff else None
        self.fields["team"].queryset = Trade.objects.filter(company_id=company_id).order_by(
            "name", "id"
        )

    def clean_person(self):
        """The staff member of the reader's company with this employee number or name."""
        text = self.cleaned_data["person"].strip()
        if not text:
            return None
        company_id = self.actor.staff.company_id if self.actor.staff else None
        found = list(
            StaffMember.objects.filter(company_id=company_id)
            .filter(Q(employee_no=text) | Q(name=text))
            .order_by("id")[:6]
        )
        if not found:
            raise forms.ValidationError(_("Nobody has this employee number or name."))
        if len(found) > 1:
            raise forms.ValidationError(
                _("Several staff are called this; enter the employee number: %(numbers)s")
                % {"numbers": ", ".join(member.employee_no for member in found[:5])}
            )
        return found[0]

    def scope(self):
        """The reader's scope of these filters (a 404 for a person outside it)."""
        data = self.cleaned_data
        return figures.scope_for(
            self.actor,
            first=data["date_from"],
            last=data["date_to"],
            community=data["community"],
            team=data["team"],
            person=data["person"],
        )

    def describe(self) -> list[tuple[str, str]]:
        """(label, chosen value) of the filters, for the workbook."""
        data = self.cleaned_data
        return [
            (str(_("From")), data["date_from"].isoformat()),
            (str(_("Until")), data["date_to"].isoformat()),
            (str(_("Community")), str(data["community"] or _("All communities"))),
            (str(_("Team")), str(data["team"] or _("All teams"))),
            (str(_("Person")), str(data["person"] or "—")),
        ]


class QualitySettingsForm(forms.ModelForm):
    """The fields of the settings; ``update_quality_settings`` checks the weights add
    up to 100."""

    class Meta:
        model = QualitySettings
        fields = SETTINGS_FIELDS
