"""The typed JSON API: ``/api/v1/…``, OpenAPI at ``/api/openapi.json``, docs at ``/api/docs``."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from wuye.accounts.api import auth_router, tokens_router
from wuye.accounts.services import user_for_token
from wuye.activities.api import router as activities_router
from wuye.billing.api import router as billing_router
from wuye.billing.api_disclosures import router as disclosures_router
from wuye.billing.api_dunning import router as dunning_router
from wuye.billing.api_money import router as billing_money_router
from wuye.billing.api_waivers import router as waivers_router
from wuye.core.api_photos import router as photos_router
from wuye.core.ratelimit import RateLimited
from wuye.estates.api import router as estates_router
from wuye.facilities.api import router as facilities_router
from wuye.incidents.api import router as incidents_router
from wuye.notices.api import router as notices_router
from wuye.notifications.api import router as notifications_router
from wuye.notifications.api_channels import router as channels_router
from wuye.people.api import router as people_router
from wuye.privacy.api import router as privacy_router
from wuye.quality.api_care import router as quality_care_router
from wuye.quality.api_complaints import router as quality_complaints_router
from wuye.quality.api_conduct import router as quality_conduct_router
from wuye.quality.api_dashboard import router as quality_dashboard_router
from wuye.quality.api_reports import router as quality_reports_router
from wuye.quality.api_training import router as quality_training_router
from wuye.staff.api import router as staff_router
from wuye.surveys.api import router as surveys_router
from wuye.webhooks.api import router as webhooks_router
from wuye.workorders.api import router as workorders_router
from wuye.workorders.services import InvalidTransition

logger = logging.getLogger("wuye.api")


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer wy_…`` tokens created in the console."""

    openapi_description = "API token created under 控制台 → API 令牌 (prefix wy_)."

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        return user


api = NinjaAPI(
    title="Wuye API",
    version="1",
    description="物业服务平台 Wuye — estates, people, staff and the service loop.",
    auth=[BearerTokenAuth(), SessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    else:
        detail = {"__all__": [str(m) for m in exc.messages]}
    return api.create_response(request, {"detail": detail}, status=400)


@api.exception_handler(InvalidTransition)
def on_invalid_transition(request, exc: InvalidTransition):
    """The order's status does not allow this move (or another user moved it first):
    a conflict, not bad input. Handlers are looked up by the exception's MRO, so this
    one wins over the ValidationError handler above."""
    return api.create_response(request, {"detail": {"__all__": exc.messages}}, status=409)


@api.exception_handler(RateLimited)
def on_rate_limited(request, exc: RateLimited):
    """Too many in a time window (requests submitted, urges, SMS codes): 429 with the
    seconds until one more is allowed. Wins over the ValidationError handler (MRO)."""
    response = api.create_response(request, {"detail": " ".join(exc.messages)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(
        request, {"detail": _("You do not have permission to do this.")}, status=403
    )


@api.exception_handler(DataError)
def on_data_error(request, exc):
    """A value the database refuses (out of range, NUL character…) is bad input, not a 500.
    Inputs are validated before they reach the database; this is the safety net."""
    logger.warning("API input refused by the database on %s: %s", request.path, exc)
    return api.create_response(
        request, {"detail": _("A value is invalid or out of range.")}, status=400
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


for _router in (
    auth_router,
    estates_router,
    people_router,
    staff_router,
    tokens_router,
    notifications_router,
    photos_router,
    workorders_router,
    facilities_router,
    incidents_router,
    billing_router,
    billing_money_router,
    disclosures_router,
    dunning_router,
    waivers_router,
    notices_router,
    activities_router,
    surveys_router,
    channels_router,
    webhooks_router,
    quality_dashboard_router,
    quality_complaints_router,
    quality_care_router,
    quality_conduct_router,
    quality_training_router,
    quality_reports_router,
    privacy_router,
):
    api.add_router("/v1/", _router)
