"""The phone's meter-reading form: one meter of one house, read today. The reading's
rules (backwards, spikes, the new meter's start) stay in ``wuye.billing.meters``."""

from django import forms
from django.utils.translation import gettext_lazy as _

DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off", "enterkeyhint": "done"}


class FieldReadingForm(forms.Form):
    fee_item = forms.IntegerField(widget=forms.HiddenInput)
    value = forms.CharField(
        label=_("New reading"),
        max_length=20,
        widget=forms.TextInput(attrs={**DECIMAL_INPUT, "placeholder": _("New reading")}),
    )
    replaced = forms.BooleanField(label=_("Meter replaced"), required=False)
    start_value = forms.CharField(
        label=_("New meter's starting reading"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
