"""Console forms of 收支公示: a new report (community and months), its title and note,
an expense line (category with suggestions, amount, note), the reason for a withdrawal and
the list filters. The rules live in ``wuye.billing.disclosures``."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing import disclosures
from wuye.billing.models import Disclosure
from wuye.billing.money import add_months, month_end
from wuye.estates.models import Community

MONTH = {"type": "month"}
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]
CATEGORY_LIST = "expense-categories"


def _communities(actor):
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


def last_quarter(today):
    """The first and last month of the calendar quarter before ``today``'s."""
    first = add_months(today.replace(day=1, month=(today.month - 1) // 3 * 3 + 1), -3)
    return first, add_months(first, 2)


class DisclosureForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    first_month = forms.DateField(
        label=_("From month"),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
    )
    last_month = forms.DateField(
        label=_("To month"),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
        help_text=_("Whole months, at most a year: a month, a quarter, half a year or a year."),
    )
    title = forms.CharField(
        label=capfirst(_("title")),
        max_length=100,
        required=False,
        help_text=_("Leave empty for “Income and expenses” and the period."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(actor)
        if not self.is_bound:
            first, last = last_quarter(timezone.localdate())
            self.initial.setdefault("first_month", first)
            self.initial.setdefault("last_month", last)

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "community": data["community"],
            "period_start": data["first_month"].replace(day=1),
            "period_end": month_end(data["last_month"]),
            "title": data["title"],
        }


class DisclosureEditForm(forms.Form):
    title = forms.CharField(label=capfirst(_("title")), max_length=100, required=False)
    note = forms.CharField(
        label=capfirst(_("note")),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to residents with the report, e.g. what a large expense was for."),
    )


class ExpenseForm(forms.Form):
    """The category is free text with the usual categories suggested (a datalist)."""

    category = forms.CharField(
        label=capfirst(_("category")),
        max_length=50,
        widget=forms.TextInput(attrs={"list": CATEGORY_LIST, "autocomplete": "off"}),
    )
    amount = forms.DecimalField(
        label=capfirst(_("amount")),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=_("Yuan."),
    )
    note = forms.CharField(label=capfirst(_("note")), max_length=200, required=False)

    def suggestions(self) -> list[str]:
        return disclosures.expense_categories()


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=capfirst(_("reason")), max_length=200)


class DisclosureFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    state = forms.ChoiceField(
        label=capfirst(_("state")),
        required=False,
        choices=[("", _("Any state")), *Disclosure.State.choices],
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("community"):
            queryset = queryset.filter(community=data["community"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        return queryset
