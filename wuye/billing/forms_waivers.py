"""Console forms of discounts and waivers (减免): rules, a waiver proposal with the house
picker, a decision, and the waiver list's filters. The rules themselves are checked by
``wuye.billing.waivers``; its ValidationErrors land back on these forms."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing import money
from wuye.billing.models import DiscountRule, FeeItem, Waiver
from wuye.billing.waivers import MONTHLY_PRICED
from wuye.estates.forms import CASCADE_CLASS, raw_id
from wuye.estates.models import Community
from wuye.people.forms import HousePickerMixin

MONTH = {"type": "month"}
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


def _communities(actor):
    return Community.objects.filter(id__in=sorted(actor.community_ids)).order_by("name", "id")


class RuleForm(forms.Form):
    """A discount rule; changing the community re-renders the fee items it offers."""

    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=capfirst(_("community"))
    )
    fee_item = forms.ModelChoiceField(
        queryset=FeeItem.objects.none(),
        label=capfirst(_("fee item")),
        help_text=_("Fees charged by the month: by area, fixed or parking."),
    )
    kind = forms.ChoiceField(label=capfirst(_("kind")), choices=DiscountRule.Kind.choices)
    name = forms.CharField(label=capfirst(_("name")), max_length=50)
    rate = forms.DecimalField(
        label=capfirst(_("discount rate")),
        max_digits=5,
        decimal_places=4,
        help_text=_("Share of the fee taken off: 0.5 is half, 0.05 is 5%, 1 is all of it."),
    )
    min_months = forms.IntegerField(
        label=capfirst(_("minimum months")),
        min_value=1,
        max_value=36,
        initial=1,
        help_text=_("Vacant: months the house must stay empty; prepayment: months paid ahead."),
    )
    is_active = forms.BooleanField(
        label=_("In use (new waivers may be proposed under it)"), required=False, initial=True
    )

    def __init__(self, *args, actor, rule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["community"].queryset = _communities(actor)
        self.fields["community"].widget.attrs["class"] = CASCADE_CLASS
        items = FeeItem.objects.filter(
            community_id__in=sorted(actor.community_ids), kind__in=MONTHLY_PRICED
        )
        self.fields["fee_item"].queryset = items
        community_id = raw_id(self, "community")
        if community_id:
            options = items.filter(community_id=community_id).values_list("id", "name")
            self.fields["fee_item"].widget.choices = [("", "---------"), *options]
        else:
            self.fields["fee_item"].widget.choices = [("", _("Choose a community first"))]
        if rule is None:
            del self.fields["is_active"]
        else:
            # A rule stays in its community; its fee item and kind once it has waivers.
            self.fields["community"].disabled = True
            if rule.waivers.exists():
                self.fields["fee_item"].disabled = True
                self.fields["kind"].disabled = True

    def clean(self):
        data = super().clean()
        item, community = data.get("fee_item"), data.get("community")
        if item and community and item.community_id != community.id:
            self.add_error("fee_item", _("Choose a fee item of this community."))
        return data


class ProposeForm(HousePickerMixin, forms.Form):
    """A waiver: the house by community → building → number, a rule of that community,
    whole months from … to …, and why."""

    rule = forms.ModelChoiceField(queryset=DiscountRule.objects.none(), label=capfirst(_("rule")))
    start_month = forms.DateField(
        label=capfirst(_("from month")),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
    )
    end_month = forms.DateField(
        label=capfirst(_("to month")),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs=MONTH, format="%Y-%m"),
        help_text=_("Both months included."),
    )
    reason = forms.CharField(
        label=capfirst(_("reason")),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the owner's application and the meter readings showing no use."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_picker_fields(actor, required=True)
        self.order_fields(["community", "building", "unit", "number", "rule"])
        rules = DiscountRule.objects.filter(
            community_id__in=sorted(actor.community_ids), is_active=True
        ).select_related("fee_item")
        self.fields["rule"].queryset = rules
        community_id = raw_id(self, "community")
        if community_id:
            options = [
                (rule.pk, f"{rule.name} · {rule.fee_item.name}")
                for rule in rules.filter(community_id=community_id)
            ]
            self.fields["rule"].widget.choices = [("", "---------"), *options]
        else:
            self.fields["rule"].widget.choices = [("", _("Choose a community first"))]

    def clean_end_month(self):
        """A month typed as YYYY-MM means the whole month: up to its last day."""
        end = self.cleaned_data["end_month"]
        raw = self.data.get(self.add_prefix("end_month"), "")
        return money.month_end(end) if len(str(raw).strip()) == 7 else end

    def clean(self):
        data = super().clean()
        data["house"] = self.resolve_house(data)
        rule = data.get("rule")
        if rule and data.get("community") and rule.community_id != data["community"].id:
            self.add_error("rule", _("Choose a rule of this community."))
        return data

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "house": data["house"],
            "rule": data["rule"],
            "start_month": data["start_month"],
            "end_month": data["end_month"],
            "reason": data["reason"],
        }


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=capfirst(_("decision note")), max_length=200, required=False)


class WaiverFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[("", _("Any status")), *Waiver.Status.choices],
    )
    kind = forms.ChoiceField(
        label=capfirst(_("kind")),
        required=False,
        choices=[("", _("Any kind")), *DiscountRule.Kind.choices],
    )
    number = forms.CharField(
        label=capfirst(_("house number")),
        max_length=32,
        required=False,
        help_text=_("The start of the number, e.g. 0802."),
    )
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = _communities(actor)

    def filter(self, waivers):
        data = self.cleaned_data
        if data.get("community") is not None:
            waivers = waivers.filter(community=data["community"])
        if data.get("status"):
            waivers = waivers.filter(status=data["status"])
        if data.get("kind"):
            waivers = waivers.filter(rule__kind=data["kind"])
        if data.get("number"):
            waivers = waivers.filter(house__number__startswith=data["number"].strip())
        return waivers
