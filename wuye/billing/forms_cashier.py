"""Forms of the cashier console (收银台): finding a house, collecting a payment, the
payments list filters, refund requests and the statement month.

Nothing here lists a whole company: a house is found by community → building → number or by
a resident's name or mobile (at most ``MAX_HOUSES`` answers); the bills offered are the
unsettled bills of one house.
"""

import datetime
import uuid
from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import Payment
from wuye.estates.forms import EstateCascadeMixin
from wuye.estates.models import Building, Community, House, Unit
from wuye.people.models import Residency

MAX_HOUSES = 20
DATE = {"type": "date"}
COUNTER_METHODS = [
    (value, label) for value, label in Payment.Method.choices if value != Payment.Method.ONLINE
]


def billing_houses(actor):
    """Houses of the communities where the actor works (company-wide roles: the company's)."""
    return House.objects.filter(
        company_id__in=sorted(actor.company_ids), community_id__in=sorted(actor.community_ids)
    )


class HouseSearchForm(EstateCascadeMixin, forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All my communities"),
    )
    building = forms.ModelChoiceField(
        queryset=Building.objects.none(), required=False, label=capfirst(_("building"))
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, label=capfirst(_("unit"))
    )
    number = forms.CharField(label=capfirst(_("house number")), max_length=32, required=False)
    q = forms.CharField(
        label=_("Resident name or mobile"),
        max_length=50,
        required=False,
        help_text=_("The full 11-digit mobile, or the start of the name."),
    )

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.actor = actor
        self.init_cascade(actor, manage=True, empty_unit_label=_("All units"))
        self.fields["community"].queryset = self.fields["community"].queryset.order_by("name")
        building = self.fields["building"].widget
        if building.choices and building.choices[0] == ("", "---------"):
            building.choices[0] = ("", _("All buildings"))

    @property
    def searched(self) -> bool:
        return any(self.data.get(name) for name in ("building", "number", "q"))

    def clean(self):
        data = super().clean()
        self.clean_cascade(data)
        return data

    def houses(self):
        """At most ``MAX_HOUSES`` + 1 matching houses (one more tells "refine the search")."""
        data = self.cleaned_data
        houses = billing_houses(self.actor)
        for field in ("community", "building", "unit"):
            if data.get(field) is not None:
                houses = houses.filter(**{field: data[field]})
        if data.get("number"):
            houses = houses.filter(number__startswith=data["number"].strip())
        query = (data.get("q") or "").strip()
        if query:
            who = (
                Q(resident__mobile=query)
                if query.isdigit()
                else Q(resident__name__startswith=query)
            )
            living = Residency.objects.active().filter(who).values("house_id")
            houses = houses.filter(id__in=living)
        houses = houses.select_related("community", "building", "unit")
        return list(
            houses.order_by("community__name", "building__name", "number", "id")[: MAX_HOUSES + 1]
        )


class CollectForm(forms.Form):
    """收款 for one house: the bills ticked (none: oldest due first), amount, method,
    reference and payer; ``idempotency_key`` is new on every rendering of an empty form, so
    a second submit of the same page returns the first payment."""

    bills = forms.TypedMultipleChoiceField(
        label=_("Bills to pay"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the oldest due first; anything left over is prepaid (预存)."),
    )
    amount = forms.DecimalField(
        label=capfirst(_("amount")),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    method = forms.ChoiceField(
        label=capfirst(_("method")), choices=COUNTER_METHODS, initial=Payment.Method.CASH
    )
    reference = forms.CharField(
        label=capfirst(_("reference")),
        max_length=64,
        required=False,
        help_text=_("Bank or POS slip number."),
    )
    payer = forms.CharField(label=capfirst(_("payer")), max_length=50, required=False)
    use_prepaid = forms.BooleanField(label=_("Spend the prepaid balance first"), required=False)
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, bills, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bills"].choices = [(bill.id, str(bill.id)) for bill in bills]
        if not self.is_bound:
            self.initial["idempotency_key"] = uuid.uuid4().hex
            self.initial.setdefault("amount", sum((b.balance for b in bills), Decimal("0")) or None)

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "bill_ids": data["bills"] or None,
            "amount": data["amount"],
            "method": data["method"],
            "reference": data["reference"],
            "payer": data["payer"],
            "use_prepaid": data["use_prepaid"],
            "idempotency_key": data["idempotency_key"],
        }


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class PaymentFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    date_to = forms.DateField(
        label=_("Received until"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    method = forms.ChoiceField(
        label=capfirst(_("method")),
        required=False,
        choices=[("", _("Any method")), *Payment.Method.choices],
    )
    receipt_no = forms.CharField(label=_("Receipt number"), max_length=60, required=False)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(
            id__in=sorted(actor.community_ids)
        ).order_by("name", "id")

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filter(self, payments):
        data = self.cleaned_data
        # Whole local days as a range of instants, so the (community, received_at) index serves.
        if data.get("date_from"):
            payments = payments.filter(received_at__gte=_day_start(data["date_from"]))
        if data.get("date_to"):
            next_day = data["date_to"] + datetime.timedelta(days=1)
            payments = payments.filter(received_at__lt=_day_start(next_day))
        if data.get("community") is not None:
            payments = payments.filter(community=data["community"])
        if data.get("method"):
            payments = payments.filter(method=data["method"])
        if data.get("receipt_no"):
            payments = payments.filter(receipt_no=data["receipt_no"].strip().upper())
        return payments


class RefundRequestForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to refund"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(label=capfirst(_("reason")), max_length=200)


class StatementForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
