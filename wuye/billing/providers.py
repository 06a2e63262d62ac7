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
``settle_from_query`` (the order closer, ``wuye.billing.orders``) records a payment the
provider reports when asked through the same path (``apply_notification``).

Money the provider confirms is never refused: when the order was closed meanwhile, the
whole amount goes to the house's prepaid balance (预存); when some of its bills were
voided or paid at the counter meanwhile, what they no longer owe goes there. Either way
it is a payment with a receipt, and the event's outcome says so.
"""

import dataclasses
import hashlib
import hmac
import json
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
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
        """The provider's view of the trade: ``out_trade_no`` and ``trade_state``; a paid
        trade (``SUCCESS``) also has ``transaction_id`` and ``amount``."""
        raise NotImplementedError

    def close_order(self, order: ProviderOrder) -> bool:
        """Close an unpaid trade so it can no longer be paid; False when the provider
        answers that it is paid already (query it and record the payment)."""
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

    # The sandbox's own books of trades paid or closed at the "provider" (the cache: one
    # process in the demo and tests, shared with Redis). Without an entry, a trade is in
    # the state of our order.
    BOOK_SECONDS = 7 * 24 * 3600

    def _book_key(self, order) -> str:
        return f"wuye:sandbox-trade:{order.out_trade_no}"

    def pay(self, order, **notification) -> tuple[bytes, dict]:
        """The resident paid in the sandbox cashier: the trade is paid at the provider;
        returns the notification it sends (delivered by the caller, or lost)."""
        transaction_id = notification.pop("transaction_id", None) or f"SBT{order.pk:010d}"
        cache.set(
            self._book_key(order),
            {
                "trade_state": "SUCCESS",
                "transaction_id": transaction_id,
                "amount": str(order.amount),
            },
            self.BOOK_SECONDS,
        )
        return self.build_notification(order, transaction_id=transaction_id, **notification)

    def query_order(self, order):
        booked = cache.get(self._book_key(order))
        if booked:
            return {"out_trade_no": order.out_trade_no, **booked}
        return {"out_trade_no": order.out_trade_no, "trade_state": order.status.upper()}

    def close_order(self, order):
        booked = cache.get(self._book_key(order)) or {}
        if booked.get("trade_state") == "SUCCESS":
            return False
        cache.set(self._book_key(order), {"trade_state": "CLOSED"}, self.BOOK_SECONDS)
        return True

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
    # Paid, but the order had been closed (expired or cancelled): all of it is 预存.
    CLOSED_TO_PREPAID = "closed_to_prepaid"
    # Paid, but bills were voided or paid at the counter meanwhile: the rest is 预存.
    SURPLUS_TO_PREPAID = "surplus_to_prepaid"
    DUPLICATE = "duplicate"  # this event was handled before
    ALREADY_PAID = "already_paid"  # another event paid the order
    AMOUNT_MISMATCH = "amount_mismatch"
    NOT_PAID = "not_paid"  # a closed / failed trade
    UNKNOWN_ORDER = "unknown_order"

    MONEY_IN = (PAID, CLOSED_TO_PREPAID, SURPLUS_TO_PREPAID)


def handle_notification(provider: PaymentProvider, body: bytes, headers) -> str:
    """Turn a payment notification into at most one payment; returns an ``Outcome``.
    A bad signature raises ``ValidationError`` and writes nothing; so do replays and
    notifications for orders already paid (they return their outcome)."""
    try:
        note = provider.parse_notification(body, headers)
    except InvalidNotification as exc:
        raise ValidationError(str(exc)) from exc
    return apply_notification(provider, note, body.decode("utf-8", "replace"))


def apply_notification(provider: PaymentProvider, note: Notification, payload: str) -> str:
    """A verified notification (or a query's answer) → at most one payment."""
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
                    payload=payload,
                    verified=True,
                )
        except IntegrityError:
            return Outcome.DUPLICATE  # the same event delivered at the same moment
        event.outcome = _outcome_of(order, note)
        if event.outcome == Outcome.PAID:
            event.outcome = _pay(order, note)
        event.save(update_fields=["outcome"])
        return event.outcome


def settle_from_query(provider: PaymentProvider, order: ProviderOrder) -> str | None:
    """Ask the provider about ``order``; a trade it reports paid is recorded as its
    notification would be (event id ``query:<order number>``, so asking twice credits
    once and a late notification finds the order paid). None while it is unpaid."""
    answer = provider.query_order(order)
    if answer.get("trade_state") != "SUCCESS":
        return None
    try:
        note = Notification(
            event_id=f"query:{order.out_trade_no}",
            out_trade_no=order.out_trade_no,
            transaction_id=str(answer["transaction_id"]),
            amount=Decimal(str(answer["amount"])),
            paid=True,
        )
    except (KeyError, InvalidOperation) as exc:
        raise InvalidNotification(_("The provider's answer cannot be read.")) from exc
    return apply_notification(provider, note, json.dumps(answer, sort_keys=True))


def _outcome_of(order: ProviderOrder, note: Notification) -> str:
    if not note.paid:
        return Outcome.NOT_PAID
    if note.amount != order.amount:
        return Outcome.AMOUNT_MISMATCH
    return Outcome.PAID


def _pay(order: ProviderOrder, note: Notification) -> str:
    """One online payment for the order: to its bills that still owe, or — the order
    being closed — all to the house's prepaid balance. Returns the outcome."""
    from wuye.billing.payments import record_payment

    closed = order.status == ProviderOrder.Status.CLOSED
    order.payment = record_payment(
        house=order.house,
        amount=note.amount,
        method=Payment.Method.ONLINE,
        bill_ids=[] if closed else order.bill_ids,  # [] = no bills: all to 预存
        skip_void=True,
        payer=order.created_by.get_full_name() if order.created_by else "",
        reference=note.transaction_id,
        idempotency_key=f"{order.provider}:{order.out_trade_no}",
    )
    order.status = ProviderOrder.Status.PAID
    order.transaction_id = note.transaction_id
    order.paid_at = timezone.now()
    order.save(update_fields=["payment", "status", "transaction_id", "paid_at"])
    if closed:
        return Outcome.CLOSED_TO_PREPAID
    if order.payment.prepaid_entries.filter(amount__gt=0).exists():
        return Outcome.SURPLUS_TO_PREPAID
    return Outcome.PAID
