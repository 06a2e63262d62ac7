"""Payment notifications from online providers: POST /billing/notify/<provider>/.

No session and no CSRF token: the provider's signature over the raw body is the
authentication (checked by ``providers.handle_notification``, which writes nothing for a
bad one). The answer is what WeChat Pay-shaped providers expect: 200 with
``{"code": "SUCCESS"}`` when the notification was taken (also for a replay or an order
already paid, so the provider stops retrying), otherwise an error status with
``{"code": "FAIL", "message": …}`` and the provider delivers it again later.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wuye.billing.providers import Outcome, get_provider, handle_notification


def _answer(status: int, outcome: str, message: str = "") -> JsonResponse:
    code = "SUCCESS" if status == 200 else "FAIL"
    return JsonResponse({"code": code, "message": message or outcome}, status=status)


@csrf_exempt
@require_POST
def notify(request, provider):
    try:
        adapter = get_provider(provider)
    except ValidationError as exc:
        raise Http404 from exc
    try:
        outcome = handle_notification(adapter, request.body, request.headers)
    except ValidationError as exc:
        return _answer(400, "invalid", " ".join(exc.messages))
    if outcome == Outcome.UNKNOWN_ORDER:
        return _answer(404, outcome)
    # Paid, a replay, an order paid before, a closed trade or a wrong amount: all are
    # recorded (the last for staff to look into); a retry would change nothing.
    return _answer(200, outcome)
