"""Writes of the notification settings: a user's own preferences (channels per topic,
quiet hours, WeChat OpenID, message language) and a company's message templates."""

import dataclasses
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template import TemplateSyntaxError
from django.utils.translation import gettext as _

from wuye.core.services import require
from wuye.notifications import wording
from wuye.notifications.models import (
    KIND_PATTERN,
    ChannelCode,
    ChannelPreference,
    DeliverySettings,
    MessageTemplate,
    Topic,
)

MANAGE = "company.manage"
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
PAIRS = [(topic, channel) for topic in Topic.values for channel in ChannelCode.values]


@dataclasses.dataclass
class Preferences:
    settings: DeliverySettings  # unsaved when the user never saved any
    switched_off: set  # (topic, channel)

    def enabled(self, topic: str, channel: str) -> bool:
        return (topic, channel) not in self.switched_off


def preferences_of(user) -> Preferences:
    found = DeliverySettings.objects.filter(user_id=user.pk).first()
    off = set(
        ChannelPreference.objects.filter(user_id=user.pk, enabled=False).values_list(
            "topic", "channel"
        )
    )
    return Preferences(settings=found or DeliverySettings(user_id=user.pk), switched_off=off)


@transaction.atomic
def update_preferences(
    *,
    actor,
    switched_off,
    quiet_from=None,
    quiet_until=None,
    wechat_openid: str = "",
    language: str = "",
) -> Preferences:
    """Replace the actor's own preferences: ``switched_off`` lists the (topic, channel)
    pairs turned off (all others on); quiet hours need both ends, different; urgent
    notifications ignore both. Bad input raises ``ValidationError`` and writes nothing."""
    if not actor.is_authenticated:
        raise PermissionDenied
    errors = {}
    off = set()
    for pair in switched_off or ():
        topic, channel = pair
        if topic not in Topic.values or channel not in ChannelCode.values:
            errors["preferences"] = _("Unknown topic or channel: %(pair)s.") % {
                "pair": f"{topic}/{channel}"
            }
            break
        off.add((topic, channel))
    if (quiet_from is None) != (quiet_until is None):
        errors["quiet_until" if quiet_until is None else "quiet_from"] = _(
            "Give both the start and the end of the quiet hours, or neither."
        )
    elif quiet_from is not None and quiet_from == quiet_until:
        errors["quiet_until"] = _("Quiet hours must end at another time than they start.")
    wechat_openid = (wechat_openid or "").strip()
    if wechat_openid and not OPENID.match(wechat_openid):
        errors["wechat_openid"] = _(
            "A WeChat OpenID is 6 to 64 letters, digits, dashes or underscores."
        )
    language = language or ""
    if language and language not in dict(settings.LANGUAGES):
        errors["language"] = _("Choose one of the listed languages.")
    if errors:
        raise ValidationError(errors)
    user_id = actor.user.pk
    found, _created = DeliverySettings.objects.select_for_update().get_or_create(user_id=user_id)
    found.quiet_from = quiet_from
    found.quiet_until = quiet_until
    found.wechat_openid = wechat_openid
    found.language = language
    found.save()
    ChannelPreference.objects.filter(user_id=user_id).delete()
    ChannelPreference.objects.bulk_create(
        [
            ChannelPreference(user_id=user_id, topic=topic, channel=channel, enabled=False)
            for topic, channel in sorted(off)
        ]
    )
    return Preferences(settings=found, switched_off=off)


# --- message templates --------------------------------------------------------------------
def _check_template_fields(kind, channel, language, subject, body) -> dict:
    errors = {}
    if not re.fullmatch(KIND_PATTERN, kind or "") or len(kind) > 64:
        errors["kind"] = _("Use lowercase words separated by dots, e.g. notice.published.")
    if channel not in ChannelCode.values:
        errors["channel"] = _("Choose one of the listed channels.")
    if language not in dict(settings.LANGUAGES):
        errors["language"] = _("Choose one of the listed languages.")
    if not (body or "").strip():
        errors["body"] = _("Write the text of the message.")
    for name, text in (("subject", subject), ("body", body)):
        if text and name not in errors:
            try:
                wording.check_template(text)
            except TemplateSyntaxError as exc:
                errors[name] = _("This template does not compile: %(error)s") % {"error": exc}
    return errors


@transaction.atomic
def save_template(
    *,
    actor,
    template: MessageTemplate | None = None,
    kind: str,
    channel: str,
    language: str,
    subject: str = "",
    body: str,
    provider_template: str = "",
) -> MessageTemplate:
    """Create (``template=None``) or change one of the actor's company's templates."""
    require(actor, MANAGE)
    if not actor.staff:
        raise PermissionDenied(MANAGE)
    kind = (kind or "").strip()
    errors = _check_template_fields(kind, channel, language, subject, body)
    if errors:
        raise ValidationError(errors)
    row = template or MessageTemplate(company_id=actor.staff.company_id)
    if row.company_id != actor.staff.company_id:
        raise PermissionDenied(MANAGE)
    clash = MessageTemplate.objects.filter(
        company_id=row.company_id, kind=kind, channel=channel, language=language
    ).exclude(pk=row.pk)
    if clash.exists():
        raise ValidationError(
            {"kind": _("There is a template for this kind, channel and language already.")}
        )
    row.kind = kind
    row.channel = channel
    row.language = language
    row.subject = (subject or "").strip()
    row.body = body
    row.provider_template = (provider_template or "").strip()
    row.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:  # a concurrent save of the same kind won
        raise ValidationError(
            {"kind": _("There is a template for this kind, channel and language already.")}
        ) from exc
    return row


@transaction.atomic
def delete_template(*, actor, template: MessageTemplate) -> None:
    require(actor, MANAGE)
    if not actor.staff or template.company_id != actor.staff.company_id:
        raise PermissionDenied(MANAGE)
    MessageTemplate.objects.filter(pk=template.pk).delete()
