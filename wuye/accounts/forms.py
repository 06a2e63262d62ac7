"""Sign-in, SMS-code sign-in, password and API-token forms."""

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.accounts.models import hash_secret

mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter an 11-digit mainland mobile number starting with 1.")
)


# Failed password sign-ins allowed per (client address, username) before a pause.
MAX_LOGIN_FAILURES = 10
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60


class LoginForm(AuthenticationForm):
    """Username or mobile with a password. Wrong password, unknown user and a
    disabled account all give the same message: it does not tell who exists.
    After ``MAX_LOGIN_FAILURES`` failures from one address for one username, that
    pair must wait (password guessing), while other addresses are unaffected."""

    username = forms.CharField(
        label=_("Username or mobile"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("Wrong username/mobile or password."),
        "inactive": _("Wrong username/mobile or password."),
        "throttled": _("Too many failed sign-ins. Wait 15 minutes or sign in with an SMS code."),
    }

    def clean(self):
        key = self._failure_key()
        if key and cache.get(key, 0) >= MAX_LOGIN_FAILURES:
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except ValidationError:
            if key:
                cache.add(key, 0, LOGIN_FAILURE_WINDOW_SECONDS)
                cache.incr(key)
            raise

    def _failure_key(self) -> str | None:
        username = (self.cleaned_data.get("username") or "").strip().lower()
        if not username or self.request is None:
            return None
        address = self.request.META.get("REMOTE_ADDR", "")
        return f"wuye:login-failures:{address}:{hash_secret(username)}"


class SmsLoginForm(forms.Form):
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=11,
        validators=[mobile_validator],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "tel", "autofocus": True}
        ),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_mobile(self):
        return self.cleaned_data["mobile"].strip()

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, help_text=_("e.g. 小程序 or 报表脚本"))
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a token that does not expire."),
    )

    def expires_at(self) -> datetime.datetime | None:
        """The end of the chosen day in the current time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        end = datetime.datetime.combine(day, datetime.time.max)
        return timezone.make_aware(end)
