"""Forms of the dunning (催缴) console: the list's filters and the batch reminder."""

from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from wuye.billing.dunning import MAX_BATCH, NOTE_REQUIRED, valid_cursor
from wuye.billing.models import DunningNotice
from wuye.billing.selectors import BUCKETS
from wuye.estates.forms import EstateCascadeMixin
from wuye.estates.models import Community


class DunningFilterForm(EstateCascadeMixin, forms.Form):
    community = forms.ModelChoiceField(
        queryset=Community.objects.none(),
        required=False,
        label=capfirst(_("community")),
        empty_label=_("All communities"),
    )
    building = forms.ModelChoiceField(
        queryset=Community.objects.none(), required=False, label=capfirst(_("building"))
    )
    bucket = forms.ChoiceField(
        label=_("Overdue for"),
        required=False,
        choices=[("", _("Any time")), *[(key, label) for key, label, *_days in BUCKETS]],
        help_text=_("Counted from the oldest unpaid bill's due date."),
    )
    min_amount = forms.DecimalField(
        label=_("Owing at least (¥)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
    )
    quiet_days = forms.IntegerField(
        label=_("Not reminded in the last … days"),
        required=False,
        min_value=1,
        max_value=3650,
    )
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.init_cascade(actor, manage=False)
        self.fields["community"].queryset = Community.objects.filter(
            id__in=sorted(actor.community_ids)
        ).order_by("name", "id")

    def clean_after(self):
        value = self.cleaned_data.get("after") or ""
        if value and not valid_cursor(value):
            raise forms.ValidationError(_("This page link is not valid; start again."))
        return value

    def clean(self):
        data = super().clean()
        self.clean_cascade(data)
        return data

    def selector_args(self) -> dict:
        data = self.cleaned_data
        return {
            "community": data.get("community"),
            "building": data.get("building"),
            "bucket": data.get("bucket") or "",
            "min_amount": data.get("min_amount"),
            "quiet_days": data.get("quiet_days"),
        }


class HouseIdsField(forms.Field):
    """The ticked houses: a list of ids (checkboxes named ``houses``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        ids = []
        for item in value:
            text = str(item).strip()
            if not text.isdigit():
                raise forms.ValidationError(_("Choose houses from the list."))
            ids.append(int(text))
        return sorted(set(ids))


class ReminderForm(forms.Form):
    houses = HouseIdsField(required=False, label=_("Houses"))
    all_matching = forms.BooleanField(
        required=False,
        label=_("Every house matching the filters"),
    )
    channel = forms.ChoiceField(
        label=_("Remind by"),
        choices=[("", "---------"), *DunningNotice.Channel.choices],
    )
    note = forms.CharField(
        label=capfirst(_("note")),
        max_length=200,
        required=False,
        help_text=_("Added to the notice, SMS or letter; for a call or visit, what was agreed."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["all_matching"].help_text = _("At most %(n)d houses at a time.") % {
            "n": MAX_BATCH
        }

    def clean(self):
        data = super().clean()
        if not data.get("houses") and not data.get("all_matching") and "houses" not in self.errors:
            self.add_error(
                "houses",
                _("Tick at least one house, or choose every house matching the filters."),
            )
        if data.get("channel") in NOTE_REQUIRED and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what was agreed on the call or visit."))
        return data
