"""Forms of the webhook console pages. They only read and check input; every write goes
through ``wuye.webhooks.services`` (whose errors land on the form)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _

from wuye.webhooks.events import EVENT_TYPES
from wuye.webhooks.models import DeliveryStatus
from wuye.webhooks.services import PING, clean_url


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        widget=forms.TextInput(
            attrs={"placeholder": "https://example.com/wuye/webhooks", "inputmode": "url"}
        ),
        help_text=_("Events are POSTed here as JSON; answer with any 2xx status within 5 seconds."),
    )
    description = forms.CharField(
        label=capfirst(_("description")),
        max_length=200,
        required=False,
        help_text=_("Who receives it and why, e.g. the accounting system."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(code, format_lazy("{} ({})", text, code)) for code, text in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(
        label=capfirst(_("active")),
        required=False,
        initial=True,
        help_text=_("Switched off, nothing is sent and waiting retries are given up."),
    )

    def clean_url(self):
        """The service's checks, so a bad URL shows with the other fields' errors."""
        try:
            return clean_url(self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None


class DeliveryFilterForm(forms.Form):
    endpoint = forms.TypedChoiceField(
        label=_("Webhook"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label=capfirst(_("status")),
        required=False,
        choices=[("", _("All statuses")), *DeliveryStatus.choices],
    )
    event_type = forms.ChoiceField(
        label=_("Event"),
        required=False,
        choices=[("", _("All events")), *EVENT_TYPES.items(), (PING, _("Test event (ping)"))],
    )

    def __init__(self, *args, endpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = [
            ("", _("All webhooks")),
            *((endpoint.pk, endpoint.url) for endpoint in endpoints),
        ]

    def filter(self, queryset):
        data = self.cleaned_data
        if data["endpoint"]:
            queryset = queryset.filter(endpoint_id=data["endpoint"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["event_type"]:
            queryset = queryset.filter(event_type=data["event_type"])
        return queryset
