"""Sign in (password or SMS code), sign out, own profile and password, own API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from wuye.accounts import services
from wuye.accounts.forms import ApiTokenForm, LoginForm, SmsLoginForm
from wuye.accounts.models import ApiToken
from wuye.core.console import add_service_errors, after_param, keyset_page
from wuye.core.masking import mask_mobile
from wuye.core.ratelimit import RateLimited
from wuye.core.scoping import get_visible_or_404
from wuye.web.layout import layout_for

# One code per mobile per minute from the web form (the API has its own throttle).
SMS_RESEND_SECONDS = 60
PASSWORD_BACKEND = "wuye.accounts.backends.MobileOrUsernameBackend"


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def sms_login(request):
    """Two steps on one form: send a code to the mobile, then sign in with it.

    The page says the same thing whether or not the mobile has an account."""
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SmsLoginForm(request.POST or None)
    code_sent = False
    if request.method == "POST" and form.is_valid():
        mobile = form.cleaned_data["mobile"]
        if request.POST.get("action") == "send":
            if not cache.add(f"wuye:sms-web:{mobile}", 1, SMS_RESEND_SECONDS):
                messages.warning(request, _("A code was sent recently. Wait a minute and retry."))
            else:
                try:
                    services.send_login_code(mobile=mobile)
                except RateLimited as exc:
                    form.add_error("mobile", exc)
                else:
                    messages.info(request, _("If this mobile is registered, a code has been sent."))
            code_sent = True
        elif not form.cleaned_data["code"]:
            form.add_error("code", _("Enter the code from the SMS."))
            code_sent = True
        else:
            user = services.verify_login_code(mobile=mobile, code=form.cleaned_data["code"])
            if user is None:
                form.add_error("code", _("The code is wrong or has expired."))
                code_sent = True
            else:
                auth_login(request, user, backend=PASSWORD_BACKEND)
                return redirect(_next_url(request))
    if code_sent:
        form.fields["mobile"].widget.attrs.pop("autofocus", None)
    return render(
        request,
        "accounts/sms_login.html",
        {"form": form, "code_sent": code_sent, "next": request.GET.get("next", "")},
    )


@login_required
def profile(request):
    actor = request.actor
    return render(
        request,
        "accounts/profile.html",
        {
            "layout": layout_for(actor),
            "member": actor.staff,
            "masked_mobile": mask_mobile(request.user.mobile),
            "roles": actor.staff.roles.order_by("name") if actor.staff else [],
        },
    )


@sensitive_post_parameters()
@never_cache
@login_required
def password(request):
    """Change the password, or set a first one for accounts made without (residents)."""
    user = request.user
    form_class = PasswordChangeForm if user.has_usable_password() else SetPasswordForm
    form = form_class(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your password has been saved."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/password.html",
        {
            "form": form,
            "layout": layout_for(request.actor),
            "has_password": user.has_usable_password(),
        },
    )


@never_cache
@login_required
def tokens(request):
    """Own API tokens. A new token's secret is shown on this response only."""
    actor = request.actor
    form = ApiTokenForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.create_api_token(
                actor=actor, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except ValidationError as exc:
            add_service_errors(form, _expires_on(exc))
        else:
            form = ApiTokenForm()
    page = keyset_page(
        ApiToken.objects.visible_to(actor), after=after_param(request), query=request.GET
    )
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "page": page,
            "created": created,
            "secret": secret,
            "layout": layout_for(actor),
        },
    )


def _expires_on(exc: ValidationError) -> ValidationError:
    """The service names ``expires_at``; the form shows a date as ``expires_on``."""
    if hasattr(exc, "error_dict") and "expires_at" in exc.error_dict:
        errors = dict(exc.error_dict)
        errors["expires_on"] = errors.pop("expires_at")
        return ValidationError(errors)
    return exc


@login_required
@require_POST
def token_revoke(request, pk: int):
    actor = request.actor
    token = get_visible_or_404(ApiToken.objects, actor, pk=pk)
    services.revoke_api_token(actor=actor, token=token)
    if request.htmx:
        return render(request, "accounts/tokens.html#token_row", {"token": token})
    messages.success(request, _("The token has been revoked."))
    return redirect("accounts:tokens")
