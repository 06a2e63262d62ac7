from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.privacy.models import Action, DeletionState, RetentionSettings


class AccessLogFilterForm(forms.Form):
    who = forms.CharField(
        label=_("Who"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": _("Username, mobile or name")}),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All")), *Action.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "who": data.get("who") or "",
            "action": data.get("action") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class DeletionFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", pgettext_lazy("status", "All")), *DeletionState.choices],
    )


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeletionRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RetentionForm(forms.ModelForm):
    class Meta:
        model = RetentionSettings
        fields = ["audit_log_years", "notification_months", "departed_years"]
