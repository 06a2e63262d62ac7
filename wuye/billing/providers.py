"""Online payment providers, shaped like WeChat Pay / Alipay: create an order, receive a
signed payment notification, query an order, refund.

``SandboxProvider`` is the local provider for the demo and tests: HMAC-SHA256 over the
raw notification body with ``settings.BILLING_SANDBOX_SECRET``; ``build_notification``
makes the notification the sandbox cashier would send.

``handle_notification`` is the one place a notification turns into money: signature
checked (a bad one writes nothing), de-duplicated by the provider's event id (unique per
provider), amount equal to the order's, then one online payment for the order's house and
bills. The order row is locked first, so two deliveries at once are handled one after
the other and the second finds the order paid or the event already recorded.
"""

import dataclasses
import hashlib
import hmac
import json
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing.models import Payment, ProviderEvent, ProviderOrder

SANDBOX_DEV_SECRET = "wuye-sandbox-development-secret"
SIGNATURE_HEADER = "X-Sandbox-Signature"


class InvalidNotification(ValueError):
    """The notification is not signed by the provider or cannot be read."""


@dataclasses.dataclass(frozen=True)
class Notification:
    event_id: str
    out_trade_no: str
    transaction_id: str
    amount: Decimal
    paid: bool


class PaymentProvider:
    """What every provider adapter offers (WeChat Pay, Alipay, the sandbox)."""

    code = ""

    def create_order(self, order: ProviderOrder) -> dict:
        """The parameters the phone hands to the provider's cashier for ``order``."""
        raise NotImplementedError

    def parse_notification(self, body: bytes, headers) -> Notification:
        """The verified content of a notification; ``InvalidNotification`` otherwise."""
        raise NotImplementedError

    def query_order(self, order: ProviderOrder) -> dict:
        raise NotImplementedError

    def refund(self, order: ProviderOrder, refund) -> str:
        """Send money back; returns the provider's refund id."""
        raise NotImplementedError


class SandboxProvider(PaymentProvider):
    code = "sandbox"

    @property
    def secret(self) -> bytes:
        return getattr(settings, "BILLING_SANDBOX_SECRET", SANDBOX_DEV_SECRET).encode()

    def sign(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    def create_order(self, order):
        params = {
            "provider": self.code,
            "out_trade_no": order.out_trade_no,
            "amount": str(order.amount),
            "nonce": uuid.uuid4().hex,
        }
        params["sign"] = self.sign(json.dumps(params, sort_keys=True).encode())
        return params

    def parse_notification(self, body, headers):
        signature = (headers or {}).get(SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(signature, self.sign(body)):
            raise InvalidNotification(_("The notification's signature is not valid."))
        try:
            data = json.loads(body)
            return Notification(
                event_id=str(data["event_id"]),
                out_trade_no=str(data["out_trade_no"]),
                transaction_id=str(data["transaction_id"]),
                amount=Decimal(str(data["amount"])),
                paid=data["trade_state"] == "SUCCESS",
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise InvalidNotification(_("The notification cannot be read.")) from exc

    def query_order(self, order):
        return {"out_trade_no": order.out_trade_no, "trade_state": order.status.upper()}

    def refund(self, order, refund):
        return f"SBR{uuid.uuid4().hex[:20].upper()}"

    def build_notification(
        self, order, *, event_id=None, amount=None, transaction_id=None, paid=True
    ) -> tuple[bytes, dict]:
        """The signed body and headers the sandbox cashier sends when ``order`` is paid."""
        body = json.dumps(
            {
                "event_id": event_id or f"EV{uuid.uuid4().hex[:20]}",
                "out_trade_no": order.out_trade_no,
                "transaction_id": transaction_id or f"SBT{order.pk:010d}",
                "amount": str(order.amount if amount is None else amount),
                "trade_state": "SUCCESS" if paid else "CLOSED",
            },
            sort_keys=True,
        ).encode()
        return body, {SIGNATURE_HEADER: self.sign(body)}


PROVIDERS = {SandboxProvider.code: SandboxProvider}


def get_provider(code: str = SandboxProvider.code) -> PaymentProvider:
    try:
        return PROVIDERS[code]()
    except KeyError as exc:
        raise ValidationError(_("Unknown payment provider.")) from exc


class Outcome:
    PAID = "paid"
    DUPLICATE = "duplicate"  # this event was handled before
    ALREADY_PAID = "already_paid"  # another event paid the order
    AMOUNT_MISMATCH = "amount_mismatch"
    NOT_PAID = "not_paid"  # a closed / failed trade
    UNKNOWN_ORDER = "unknown_order"


def handle_notification(provider: PaymentProvider, body: bytes, headers) -> str:
    """Turn a payment notification into at most one payment; returns an ``Outcome``.
    A bad signature raises ``ValidationError`` and writes nothing; so do replays and
    notifications for orders already paid (they return their outcome)."""
    from wuye.billing.payments import record_payment

    try:
        note = provider.parse_notification(body, headers)
    except InvalidNotification as exc:
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        order = (
            ProviderOrder.objects.select_for_update(of=("self",))
            .select_related("house__company", "created_by")
            .filter(provider=provider.code, out_trade_no=note.out_trade_no)
            .first()
        )
        if order is None:
            return Outcome.UNKNOWN_ORDER
        seen = ProviderEvent.objects.filter(provider=provider.code, event_id=note.event_id)
        if seen.exists():
            return Outcome.DUPLICATE
        if order.status == ProviderOrder.Status.PAID:
            return Outcome.ALREADY_PAID
        try:
            with transaction.atomic():
                event = ProviderEvent.objects.create(
                    provider=provider.code,
                    event_id=note.event_id,
                    order=order,
                    payload=body.decode("utf-8", "replace"),
                    verified=True,
                )
        except IntegrityError:
            return Outcome.DUPLICATE  # the same event delivered at the same moment
        event.outcome = _outcome_of(order, note)
        if event.outcome == Outcome.PAID:
            _pay(order, note, record_payment)
        event.save(update_fields=["outcome"])
        return event.outcome


def _outcome_of(order: ProviderOrder, note: Notification) -> str:
    if not note.paid:
        return Outcome.NOT_PAID
    if note.amount != order.amount:
        return Outcome.AMOUNT_MISMATCH
    return Outcome.PAID


def _pay(order: ProviderOrder, note: Notification, record_payment) -> None:
    order.payment = record_payment(
        house=order.house,
        amount=note.amount,
        method=Payment.Method.ONLINE,
        bill_ids=order.bill_ids,
        payer=order.created_by.get_full_name() if order.created_by else "",
        reference=note.transaction_id,
        idempotency_key=f"{order.provider}:{order.out_trade_no}",
    )
    order.status = ProviderOrder.Status.PAID
    order.transaction_id = note.transaction_id
    order.paid_at = timezone.now()
    order.save(update_fields=["payment", "status", "transaction_id", "paid_at"])
