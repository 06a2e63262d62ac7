"""Resident (H5) pages: my personal data — download a copy, ask to delete the account."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.people.models import Resident
from wuye.privacy import exports, selectors, services
from wuye.privacy.forms import DeletionRequestForm
from wuye.privacy.models import DeletionState


def _is_resident(actor) -> bool:
    return Resident.objects.filter(user_id=actor.user.pk).exists()


@require_GET
@login_required
def my_data(request):
    actor = request.actor
    requests = list(selectors.own_deletion_requests(actor).order_by("-id")[:10])
    return render(
        request,
        "privacy/my_data.html",
        {
            "is_resident": _is_resident(actor),
            "waiting": any(
                r.state in (DeletionState.REQUESTED, DeletionState.APPROVED) for r in requests
            ),
            "requests": requests,
            "form": DeletionRequestForm(),
        },
    )


@require_GET
@login_required
def download(request):
    actor = request.actor
    if not _is_resident(actor):
        raise PermissionDenied
    return exports.resident_data_response(actor=actor, request=request)


@require_POST
@login_required
def request_deletion(request):
    if not _is_resident(request.actor):
        raise PermissionDenied
    form = DeletionRequestForm(request.POST)
    if form.is_valid():
        try:
            services.request_deletion(actor=request.actor, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Your request has been sent. The property office will reply within 15 days."),
            )
    return redirect("privacy_resident:my_data")
