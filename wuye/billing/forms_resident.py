"""Resident H5 forms: choosing the bills to pay online."""

from django import forms
from django.utils.translation import gettext_lazy as _


class BillIdsField(forms.Field):
    """Bill numbers as ticked on the page. Whose bills they are, and whether anything is
    left to pay on them, is the payment service's check (one place, clear messages)."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        try:
            return sorted({int(bill_id) for bill_id in value or []})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("Bills are given by their numbers.")) from exc

    def validate(self, value):
        if not value:
            raise forms.ValidationError(_("Choose the bills to pay."))


class PayForm(forms.Form):
    bills = BillIdsField(label=_("Bills to pay"))
