"""Forms of the notification settings pages."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.notifications.models import ChannelCode, DeliveryStatus, MessageTemplate, Topic

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def switch_name(topic: str, channel: str) -> str:
    return f"{topic}__{channel}"


class PreferencesForm(forms.Form):
    """One checkbox per topic and channel (checked: on), then the delivery settings."""

    quiet_from = forms.TimeField(label=_("Quiet from"), required=False, widget=TIME)
    quiet_until = forms.TimeField(label=_("Quiet until"), required=False, widget=TIME)
    wechat_openid = forms.CharField(
        label=_("WeChat OpenID"),
        required=False,
        max_length=64,
        help_text=_("Shown by the property company's WeChat official account when you follow it."),
    )
    language = forms.ChoiceField(
        label=_("Message language"),
        required=False,
        choices=[("", _("The site's language")), *list(settings.LANGUAGES)],
    )

    def __init__(self, *args, preferences=None, **kwargs):
        if preferences is not None and "initial" not in kwargs:
            found = preferences.settings
            kwargs["initial"] = {
                "quiet_from": found.quiet_from,
                "quiet_until": found.quiet_until,
                "wechat_openid": found.wechat_openid,
                "language": found.language,
                **{
                    switch_name(t, c): preferences.enabled(t, c)
                    for t in Topic.values
                    for c in ChannelCode.values
                },
            }
        super().__init__(*args, **kwargs)
        for topic in Topic.values:
            for channel in ChannelCode.values:
                self.fields[switch_name(topic, channel)] = forms.BooleanField(
                    required=False, initial=True
                )

    def rows(self):
        """(topic label, topic, [(channel label, bound field)]) for the grid."""
        return [
            (
                label,
                topic,
                [(c_label, self[switch_name(topic, c)]) for c, c_label in ChannelCode.choices],
            )
            for topic, label in Topic.choices
        ]

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "switched_off": [
                (t, c)
                for t in Topic.values
                for c in ChannelCode.values
                if not data.get(switch_name(t, c))
            ],
            "quiet_from": data.get("quiet_from"),
            "quiet_until": data.get("quiet_until"),
            "wechat_openid": data.get("wechat_openid", ""),
            "language": data.get("language", ""),
        }


class DeliveryFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=pgettext_lazy("delivery", "Channel"),
        required=False,
        choices=[("", _("All")), *ChannelCode.choices],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", pgettext_lazy("status", "All")), *DeliveryStatus.choices],
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        label=_("Recipient"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"placeholder": _("Mobile, email, username or name")}),
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def service_args(self) -> dict:
        data = self.cleaned_data
        return {
            "channel": data.get("channel") or "",
            "status": data.get("status") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "query": data.get("q") or "",
        }


class TemplateForm(forms.Form):
    kind = forms.CharField(
        label=_("Event kind"),
        max_length=64,
        help_text=_("e.g. notice.published, or notice for every notice event"),
    )
    channel = forms.ChoiceField(
        label=pgettext_lazy("delivery", "Channel"), choices=ChannelCode.choices
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        max_length=200,
        help_text=_("Email subject and WeChat heading; empty: the built-in one."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Django template: {{ title }}, {{ body }}, {{ link }}, {{ site_name }}. "
            "Text messages are cut at 210 characters (3 segments of 70)."
        ),
    )
    provider_template = forms.CharField(
        label=_("Provider template id"),
        required=False,
        max_length=64,
        help_text=MessageTemplate._meta.get_field("provider_template").help_text,
    )
