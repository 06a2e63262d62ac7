"""Certificate expiry reminders (证照到期提醒), run once a day by the scheduler.

A certificate whose reminder window has opened (``remind_days`` before it expires)
is announced every day until it expires, then once a week while it stays expired:
an expired certificate is a standing fault, not news, and a daily message about it
would teach people to ignore the rest. Each run sends one notification per
certificate (asset, kind, number, expiry; "expires in N days" or "expired N days
ago") to the staff who manage facilities in the asset's community and to the
company-wide managers, then records ``reminded_on``. The notification's key names
the certificate and the day, so a second run the same day sends nothing again.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wuye.facilities.models import Certificate
from wuye.facilities.services import MANAGE, certificates_to_remind
from wuye.notifications.services import delivered_together, notify
from wuye.staff.models import Role, StaffMember

EXPIRED_EVERY = datetime.timedelta(days=7)


def due_today(today: datetime.date) -> list[Certificate]:
    """The certificates to remind about today: those in their window that have not
    expired (daily), and expired ones not reminded in the last week."""
    last_expired_round = today - EXPIRED_EVERY
    return [
        c
        for c in certificates_to_remind(today=today)
        if c.expires_on >= today or c.reminded_on is None or c.reminded_on <= last_expired_round
    ]


def managers_of(community) -> set[int]:
    """User ids of the active staff with ``facilities.manage`` who work in
    ``community`` or company-wide."""
    roles = list(Role.objects.filter(company_id=community.company_id))
    # A company has a handful of roles; reading them beats a JSON query SQLite lacks.
    manage = [r.id for r in roles if MANAGE in (r.permissions or ())]
    wide = [r.id for r in roles if r.company_wide]
    holders = StaffMember.roles.through.objects
    members = StaffMember.objects.filter(
        company_id=community.company_id,
        is_active=True,
        id__in=holders.filter(role_id__in=manage).values("staffmember_id"),
    ).filter(
        Q(communities=community.id)
        | Q(id__in=holders.filter(role_id__in=wide).values("staffmember_id"))
    )
    return set(members.values_list("user_id", flat=True))


def headline(certificate: Certificate, today: datetime.date) -> str:
    """ "DT-0001 1号电梯: Elevator annual inspection 2026-0042 expires in 12 days"."""
    days = (certificate.expires_on - today).days
    names = {"asset": certificate.asset, "certificate": certificate, "days": abs(days)}
    if days > 0:
        text = ngettext(
            "%(asset)s: %(certificate)s expires in %(days)d day",
            "%(asset)s: %(certificate)s expires in %(days)d days",
            days,
        )
    elif days == 0:
        text = _("%(asset)s: %(certificate)s expires today")
    else:
        text = ngettext(
            "%(asset)s: %(certificate)s expired %(days)d day ago",
            "%(asset)s: %(certificate)s expired %(days)d days ago",
            -days,
        )
    return text % names


def _details(certificate: Certificate) -> str:
    return _("%(community)s. Expires on %(date)s. Renew it and record the new certificate.") % {
        "community": certificate.asset.community.name,
        "date": certificate.expires_on.isoformat(),
    }


def send_certificate_reminders(*, today: datetime.date | None = None) -> int:
    """Remind about every certificate due today (see the module docstring); returns
    how many certificates were announced."""
    today = today or timezone.localdate()
    audiences: dict[int, set[int]] = {}  # community id -> user ids
    with transaction.atomic(), delivered_together():
        due = due_today(today)
        for certificate in due:
            community = certificate.asset.community
            if community.id not in audiences:
                audiences[community.id] = managers_of(community)
            # One stored text serves every reader: written in the site's language.
            with translation.override(settings.LANGUAGE_CODE):
                title, body = headline(certificate, today), _details(certificate)
            notify(
                recipients=audiences[community.id],
                kind="facilities.certificate_expiring",
                title=title,
                body=body,
                url=reverse("ledger:asset_detail", args=[certificate.asset_id]),
                obj=certificate,
                dedupe_key=f"facilities.certificate:{certificate.pk}:{today.isoformat()}",
            )
        Certificate.objects.filter(pk__in=[c.pk for c in due]).update(reminded_on=today)
    return len(due)
