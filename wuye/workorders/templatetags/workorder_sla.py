"""``{% sla_badge order %}``: the order's SLA state and next deadline on the mobile pages.

Staff see the state (正常 / 即将超时 / 已超时, the dispatch board's colours), which clock
runs next and how long is left or how late it is. Residents (``audience="resident"``)
see only the promise — the time by which someone will respond, come or finish — and
an apology once it has passed; never the internal state words. Reads only the order's
own fields: no queries.
"""

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuye.workorders.models import OPEN_STATUSES, SlaState, Status
from wuye.workorders.sla import CLOCK_LABELS, STATE_RANK

register = template.Library()

# What the resident is promised while each clock runs.
PROMISES = {
    "response": gettext_noop("We will respond by %(time)s"),
    "arrival": gettext_noop("Expected on site by %(time)s"),
    "resolution": gettext_noop("Expected to be done by %(time)s"),
}


def next_deadline(order):
    """(clock name, due) of the running clock due first, or None."""
    clocks = (order.sla or {}).get("clocks", {})
    running = [
        (parse_datetime(c["due"]), name)
        for name, c in clocks.items()
        if not c.get("stopped") and c.get("due")
    ]
    if not running:
        return None
    due, name = min(running)
    return name, due


def _when(due, now) -> str:
    local, today = timezone.localtime(due), timezone.localdate(now)
    clock = formats.time_format(local, "H:i")
    if local.date() == today:
        return _("today %(time)s") % {"time": clock}
    if (local.date() - today).days == 1:
        return _("tomorrow %(time)s") % {"time": clock}
    return f"{formats.date_format(local, 'MONTH_DAY_FORMAT')} {clock}"


def badge(order, audience: str = "staff", now=None) -> dict | None:
    """What the badge shows, or None when there is nothing to show."""
    if order.status not in OPEN_STATUSES or not order.sla:
        return None
    now = now or timezone.now()
    upcoming = next_deadline(order)
    paused = order.status == Status.PAUSED
    if audience == "resident":
        if paused or upcoming is None or upcoming[0] not in PROMISES:
            return None
        name, due = upcoming
        when = _when(due, now)
        if due < now:
            return {
                "resident": True,
                "late": True,
                "text": _("Promised by %(time)s; sorry for the wait") % {"time": when},
            }
        return {"resident": True, "late": False, "text": _(PROMISES[name]) % {"time": when}}
    state = order.sla_state or SlaState.ON_TRACK
    result = {"state": state, "relative": "", "title": ""}
    if paused:
        result["relative"] = _("clock paused")
    elif upcoming is not None:
        name, due = upcoming
        if due < now and STATE_RANK[state] < STATE_RANK[SlaState.BREACHED]:
            state = SlaState.BREACHED  # the sweep has not come round yet
        if due >= now:
            left = _("%(time)s left") % {"time": timeuntil(due, now, depth=1)}
        else:
            left = _("%(time)s overdue") % {"time": timesince(due, now, depth=1)}
        result["relative"] = f"{CLOCK_LABELS[name]} {left}"
        result["title"] = _("Due %(time)s") % {"time": _when(due, now)}
    result["state"] = state
    result["label"] = SlaState(state).label
    return result


@register.inclusion_tag("workorders/_sla_badge.html")
def sla_badge(order, audience="staff"):
    return {"badge": badge(order, audience)}
