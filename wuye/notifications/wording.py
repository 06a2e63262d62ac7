"""What an email, text message or WeChat message says (the built-in wording the
``MessageTemplate`` docstring calls ``wuye.notifications.templates``; a module of that
name would sit beside the app's ``templates/`` folder, so it is called ``wording``).

The stored notification carries its title and body in the site's language. Around them
each event family (the kind's leading words: ``notice.published`` → ``notice``) has a
subject line and a short line, in the reader's language (``DeliverySettings.language``,
else ``LANGUAGE_CODE``) through gettext. A company overrides the wording of one kind (or
a whole family) on one channel in one language with a ``MessageTemplate``: subject and
body are Django template strings over ``title``, ``body``, ``link`` and ``site_name``.
The most specific kind wins: ``notice.published`` over ``notice``, a template over the
built-in wording. A template that fails to render falls back to the built-in wording
(and is logged), so a typo never stops a message.

Text messages are capped at ``SMS_MAX_SEGMENTS`` segments of ``SMS_SEGMENT`` characters.
"""

import dataclasses
import logging
import re

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from wuye.notifications.models import ChannelCode, MessageTemplate
from wuye.notifications.providers import Message

logger = logging.getLogger("wuye.notifications")

SMS_SEGMENT = 70
SMS_MAX_SEGMENTS = 3
SMS_MAX_LENGTH = SMS_SEGMENT * SMS_MAX_SEGMENTS
TEMPLATE_VARIABLES = ("title", "body", "link", "site_name")
# Templates render text, not HTML: no escaping; the email is sent as plain text.
_ENGINE = Engine(autoescape=False)


@dataclasses.dataclass(frozen=True)
class Wording:
    subject: str  # %(title)s, %(site_name)s
    short: str  # the line a text message opens with


BUILT_IN: dict[str, Wording] = {
    "": Wording(_("%(site_name)s: %(title)s"), _("%(title)s")),
    "workorder": Wording(_("Service request: %(title)s"), _("Service request: %(title)s")),
    "billing": Wording(_("Bills: %(title)s"), _("%(title)s")),
    "billing.dunning": Wording(
        _("Payment reminder from %(site_name)s"), _("Payment reminder: %(title)s")
    ),
    "notice": Wording(_("New notice: %(title)s"), _("Notice: %(title)s")),
    "activity": Wording(_("Activity: %(title)s"), _("Activity: %(title)s")),
    "survey": Wording(_("Survey: %(title)s"), _("Survey: %(title)s")),
    "incident": Wording(_("Emergency: %(title)s"), _("Emergency: %(title)s")),
    "facilities": Wording(_("Facilities: %(title)s"), _("Facilities: %(title)s")),
}


def families(kind: str) -> list[str]:
    """``billing.dunning.sms`` → ``["billing.dunning.sms", "billing.dunning", "billing"]``."""
    parts = kind.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def built_in(kind: str) -> Wording:
    for family in families(kind):
        if family in BUILT_IN:
            return BUILT_IN[family]
    return BUILT_IN[""]


def language_of(delivery_settings) -> str:
    language = getattr(delivery_settings, "language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def absolute_link(url: str) -> str:
    """``NOTIFICATION_BASE_URL`` + the in-app path (the bare path without a base)."""
    base = getattr(settings, "NOTIFICATION_BASE_URL", "") or ""
    if not url:
        return ""
    return base.rstrip("/") + url if base else url


def check_template(text: str) -> None:
    """Raise ``TemplateSyntaxError`` for a template string that cannot compile."""
    _ENGINE.from_string(text)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def cap_sms(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SMS_MAX_LENGTH:
        return text
    return text[: SMS_MAX_LENGTH - 1] + "…"


class TemplateBook:
    """The ``MessageTemplate`` rows of some companies, looked up by most specific kind."""

    def __init__(self, company_ids):
        ids = sorted({pk for pk in company_ids if pk})
        self.rows = {}
        if ids:
            for row in MessageTemplate.objects.filter(company_id__in=ids):
                self.rows[row.company_id, row.kind, row.channel, row.language] = row

    def find(self, company_id, kind, channel, language) -> MessageTemplate | None:
        if not company_id:
            return None
        for family in families(kind):
            row = self.rows.get((company_id, family, channel, language))
            if row is not None:
                return row
        return None


def render(
    notification,
    *,
    channel: str,
    language: str,
    site_name: str = "",
    template: MessageTemplate | None = None,
) -> Message:
    """The message ``notification`` becomes on ``channel`` for a reader of ``language``."""
    link = absolute_link(notification.url)
    with translation.override(language):
        site_name = site_name or str(
            getattr(settings, "NOTIFICATION_SITE_NAME", "") or _("Property service")
        )
        values = {
            "title": notification.title,
            "body": notification.body,
            "link": link,
            "site_name": site_name,
        }
        wording = built_in(notification.kind)
        subject = str(wording.subject) % values
        short = str(wording.short) % values
        text = _tidy("\n\n".join(part for part in (notification.title, notification.body, link)))
        sms = f"【{site_name}】{short}" + (f" {notification.body}" if notification.body else "")
        sms += f" {link}" if link else ""
        if template is not None:
            try:
                context = Context(values, autoescape=False)
                if template.subject:
                    line = _ENGINE.from_string(template.subject).render(context)
                    subject = " ".join(line.split())
                body = _tidy(_ENGINE.from_string(template.body).render(context))
            except (TemplateSyntaxError, ValueError, TypeError, LookupError):
                logger.exception("Message template %s failed; built-in wording used", template.pk)
            else:
                text = body
                sms = body
        when = timezone.localtime(notification.created_at).strftime("%Y-%m-%d %H:%M")
    provider_template = template.provider_template if template is not None else ""
    if channel == ChannelCode.SMS:
        text = cap_sms(sms)
        return Message(
            subject=subject,
            text=text,
            link=link,
            provider_template=provider_template
            or getattr(settings, "NOTIFICATION_SMS_TEMPLATE", ""),
            params={"title": notification.title, "link": link, "site_name": site_name},
        )
    if channel == ChannelCode.WECHAT:
        return Message(
            subject=subject,
            text=text,
            link=link,
            provider_template=provider_template
            or getattr(settings, "NOTIFICATION_WECHAT_TEMPLATE", ""),
            params={
                "first": subject,
                "keyword1": notification.title,
                "keyword2": when,
                "remark": notification.body if template is None else text,
            },
        )
    return Message(subject=subject[:200], text=text, link=link)
