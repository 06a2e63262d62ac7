"""Console forms of billing: fee items and price changes, bill runs, bill filters,
adjustments, arrears filters and meter readings.

Forms check the shape of the input (numbers, dates, tiers) and resolve ids to rows the
actor may use; the rules themselves stay in ``wuye.billing.services``, ``runs`` and
``meters``, whose ValidationErrors land back on the form. Selects never list a whole
company: communities are the actor's, buildings follow the chosen community, a house is
found by its number.
"""

import datetime
import json
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing import money
from wuye.billing.models import Adjustment, Bill, FeeItem
from wuye.billing.selectors import months_back
from wuye.estates.forms import EstateCascadeMixin, raw_id
from wuye.estates.models import Community
from wuye.people.forms import HousePickerMixin

DATE = {"type": "date"}
MONTH = {"type": "month"}
MAX_MONTHS = 36


def _communities(actor):
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


def parse_tier_text(text: str) -> list[dict]:
    """Tiers typed as rows ``<up to> <price>`` (the last row ``- <price>``, open-ended)
    or as the stored JSON list; validated by ``money.parse_tiers``."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("The tiers are not valid JSON.")) from exc
    else:
        raw = []
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.replace(",", " ").split()
            if not parts:
                continue
            if len(parts) != 2:
                raise forms.ValidationError(
                    _("Row %(n)d: write the upper limit and the price, e.g. “180 0.56”.")
                    % {"n": number}
                )
            up_to = None if parts[0] in ("-", "—", "*") else parts[0]
            raw.append({"up_to": up_to, "price": parts[1]})
    try:
        money.parse_tiers(raw)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from exc
    return raw


def tier_text(tiers) -> str:
    return "\n".join(f"{t['up_to'] if t['up_to'] is not None else '-'} {t['price']}" for t in tiers)


class PriceFields(forms.Form):
    """The price of a fee item from a date: unit price, multiplier, tiers."""

    unit_price = forms.DecimalField(
        label=capfirst(_("unit price")),
        max_digits=12,
        decimal_places=4,
        min_value=Decimal("0"),
        help_text=_(
            "Yuan per m² per month (by area), per month (fixed, parking), per unit used "
            "(metered) or the amount (one-off, deposit)."
        ),
    )
    multiplier = forms.DecimalField(
        label=capfirst(_("multiplier")),
        max_digits=10,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        required=False,
        help_text=_("Metered only: the meter's ratio (倍率). Empty: 1."),
    )
    tiers = forms.CharField(
        label=capfirst(_("tiered prices")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "180 0.56\n260 0.61\n- 0.86"}),
        help_text=_(
            "Metered only, optional: one band per row, “upper limit price”, the last row "
            "“- price” (no limit); or the JSON list."
        ),
    )
    effective_from = forms.DateField(
        label=capfirst(_("effective from")), widget=forms.DateInput(attrs=DATE)
    )

    def clean_tiers(self):
        return parse_tier_text(self.cleaned_data.get("tiers"))


class FeeItemForm(PriceFields):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    code = forms.SlugField(
        label=capfirst(_("code")),
        max_length=32,
        help_text=_("Letters, digits, - and _; unique in the community."),
    )
    name = forms.CharField(label=capfirst(_("name")), max_length=50)
    kind = forms.ChoiceField(label=capfirst(_("kind")), choices=FeeItem.Kind.choices)
    area_basis = forms.ChoiceField(
        label=capfirst(_("area basis")),
        choices=FeeItem.AreaBasis.choices,
        initial=FeeItem.AreaBasis.BUILT,
        help_text=_("By area only."),
    )
    cycle = forms.ChoiceField(
        label=capfirst(_("billing cycle")),
        choices=FeeItem.Cycle.choices,
        initial=FeeItem.Cycle.MONTH,
    )
    due_days = forms.IntegerField(
        label=capfirst(_("due days")),
        min_value=0,
        max_value=366,
        initial=15,
        help_text=_("Days after the period start when the bill falls due."),
    )

    field_order = ["community", "code", "name", "kind", "area_basis", "cycle"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and kind != FeeItem.Kind.METERED:
            if data.get("tiers"):
                self.add_error("tiers", _("Only metered fee items have tiered prices."))
            if data.get("multiplier") not in (None, Decimal("1")):
                self.add_error("multiplier", _("Only metered fee items have a multiplier."))
        return data


class PriceChangeForm(PriceFields):
    """A new price from a date; the item's kind decides which fields show."""

    def __init__(self, *args, fee_item, **kwargs):
        super().__init__(*args, **kwargs)
        if fee_item.kind != FeeItem.Kind.METERED:
            del self.fields["multiplier"], self.fields["tiers"]
        self.fields["effective_from"].help_text = _(
            "A price applies from the first month starting on or after this date."
        )

    def clean_tiers(self):
        return parse_tier_text(self.cleaned_data.get("tiers"))


class RunForm(forms.Form):
    COMPANY = ""

    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("The whole company"),
    )
    period_kind = forms.ChoiceField(
        label=capfirst(_("period")), choices=FeeItem.Cycle.choices, initial=FeeItem.Cycle.MONTH
    )
    period_start = forms.DateField(
        label=capfirst(_("period start")),
        widget=forms.DateInput(attrs=DATE),
        help_text=_("The first day of the month, quarter or year."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["community"].queryset = _communities(actor)
        if not actor.company_wide:
            self.fields["community"].required = True
            self.fields["community"].empty_label = None
        if not self.is_bound:
            self.initial.setdefault("period_start", money.add_months(timezone.localdate(), 0))


class BillFilterForm(EstateCascadeMixin, forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    building = forms.ModelChoiceField(
        queryset=Community.objects.none(), required=False, label=capfirst(_("building"))
    )
    number = forms.CharField(label=capfirst(_("house number")), max_length=32, required=False)
    fee_item = forms.ModelChoiceField(
        queryset=FeeItem.objects.none(),
        required=False,
        label=capfirst(_("fee item")),
        empty_label=_("All fee items"),
    )
    period = forms.DateField(
        label=capfirst(_("period")),
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
        help_text=_("Bills whose period includes this month."),
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[("", _("Any status")), *Bill.Status.choices],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.actor = actor
        self.init_cascade(actor, manage=False)
        self.fields["community"].queryset = _communities(actor)
        community_id = raw_id(self, "community")
        items = FeeItem.objects.visible_to(actor).filter(
            community_id__in=sorted(actor.community_ids)
        )
        self.fields["fee_item"].queryset = items
        if community_id:
            options = items.filter(community_id=community_id).values_list("id", "name")
            self.fields["fee_item"].widget.choices = [("", _("All fee items")), *options]
        else:
            self.fields["fee_item"].widget.choices = [("", _("Choose a community first"))]

    def clean(self):
        data = super().clean()
        self.clean_cascade(data)
        return data

    def filter(self, bills, *, today: datetime.date):
        data = self.cleaned_data
        for field in ("community", "building", "fee_item"):
            if data.get(field) is not None:
                bills = bills.filter(
                    **{"house__building" if field == "building" else field: data[field]}
                )
        if data.get("number"):
            bills = bills.filter(house__number__startswith=data["number"].strip())
        if data.get("period"):
            month = data["period"].replace(day=1)
            bills = bills.filter(period_start__lte=money.month_end(month), period_end__gte=month)
        if data.get("status"):
            bills = bills.filter(status=data["status"])
        if data.get("overdue"):
            bills = bills.filter(status__in=Bill.UNSETTLED, due_date__lt=today)
        return bills


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label=capfirst(_("kind")), choices=Adjustment.Kind.choices)
    amount = forms.DecimalField(
        label=capfirst(_("amount")),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("Yuan; a credit note lowers what is owed, a debit raises it."),
    )
    reason = forms.CharField(label=capfirst(_("reason")), max_length=200)


class ArrearsForm(forms.Form):
    """Arrears as of a day and the collection rate of bills due in a range of months."""

    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    as_of = forms.DateField(label=capfirst(_("as of")), widget=forms.DateInput(attrs=DATE))
    month_from = forms.DateField(
        label=capfirst(_("due from month")),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
    )
    month_to = forms.DateField(
        label=capfirst(_("due until month")),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
    )

    def __init__(self, data, *, actor, **kwargs):
        data = data.copy()
        today = timezone.localdate()
        data.setdefault("as_of", today.isoformat())
        data.setdefault("month_from", months_back(today, 12).strftime("%Y-%m"))
        data.setdefault("month_to", today.strftime("%Y-%m"))
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def clean(self):
        data = super().clean()
        first, last = data.get("month_from"), data.get("month_to")
        if first and last:
            first, last = first.replace(day=1), last.replace(day=1)
            if last < first:
                self.add_error("month_to", _("The range must end on or after its first month."))
            elif money.add_months(first, MAX_MONTHS) <= last:
                self.add_error("month_to", _("Choose at most %(n)d months.") % {"n": MAX_MONTHS})
            data["month_from"], data["month_to"] = first, last
        return data

    def scope(self, bills):
        community = self.cleaned_data.get("community")
        return bills.filter(community=community) if community is not None else bills

    def problems(self) -> str:
        return "; ".join(
            f"{self.fields[f].label if f in self.fields else ''}: {' '.join(e)}"
            for f, e in self.errors.items()
        )


class ReadingFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    number = forms.CharField(label=capfirst(_("house number")), max_length=32, required=False)
    held = forms.BooleanField(label=_("Held for review only"), required=False)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def filter(self, readings):
        data = self.cleaned_data
        if data.get("community") is not None:
            readings = readings.filter(community=data["community"])
        if data.get("number"):
            readings = readings.filter(house__number__startswith=data["number"].strip())
        if data.get("held"):
            readings = readings.filter(needs_review=True)
        return readings


class ReadingForm(HousePickerMixin, forms.Form):
    """A reading typed in the console: the house by community → building → number, the
    metered fee item of that community."""

    fee_item = forms.ModelChoiceField(
        queryset=FeeItem.objects.none(), label=capfirst(_("fee item"))
    )
    reading_date = forms.DateField(
        label=capfirst(_("reading date")), widget=forms.DateInput(attrs=DATE)
    )
    value = forms.CharField(label=capfirst(_("reading")), max_length=20)
    replaced = forms.BooleanField(label=_("The meter was replaced"), required=False)
    start_value = forms.CharField(
        label=capfirst(_("new meter's starting reading")),
        max_length=20,
        required=False,
        help_text=_("Only when the meter was replaced."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_picker_fields(actor, required=True)
        self.order_fields(["community", "building", "unit", "number", "fee_item"])
        items = FeeItem.objects.filter(
            kind=FeeItem.Kind.METERED, community_id__in=sorted(actor.community_ids)
        )
        self.fields["fee_item"].queryset = items
        community_id = raw_id(self, "community")
        if community_id:
            options = items.filter(community_id=community_id).values_list("id", "name")
            self.fields["fee_item"].widget.choices = [("", "---------"), *options]
        else:
            self.fields["fee_item"].widget.choices = [("", _("Choose a community first"))]
        if not self.is_bound:
            self.initial.setdefault("reading_date", timezone.localdate())

    def clean(self):
        data = super().clean()
        data["house"] = self.resolve_house(data)
        return data

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "house": data["house"],
            "fee_item": data["fee_item"],
            "reading_date": data["reading_date"],
            "value": data["value"],
            "replaced": data["replaced"],
            "start_value": data["start_value"] or None,
        }
