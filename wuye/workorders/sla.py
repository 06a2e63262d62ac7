"""SLA clocks on work orders: response (受理), on-site arrival and resolution.

At creation the policy is frozen into ``order.sla`` with each clock's start, budget,
at-risk instant and deadline. Transitions stop clocks (recording how late they
were), pauses stop all running clocks and resuming extends them by the paused
schedule time. ``sla_next_check`` holds the next instant at which something can
change (an at-risk point, a deadline, an escalation point); the sweep reads only rows
whose next check has come, through a partial index, and is idempotent.
"""

import datetime

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from wuye.sla import clock as sla_clock
from wuye.sla.models import SlaPolicy
from wuye.sla.selectors import schedule_for
from wuye.workorders.models import EventType, RequestType, SlaState, Urgency

CLOCKS = ("response", "arrival", "resolution")
STOPPED_BY = {
    "accept": "response",
    "arrive": "arrival",
    "complete": "resolution",
    "resolve": "resolution",
}
# A fourth clock, started by a low rating: the service-recovery follow-up.
RECOVERY = "recovery"
STATE_RANK = {SlaState.ON_TRACK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2}


def policy_for(order) -> SlaPolicy | None:
    """The category's policy, else the company's policy for the urgency and type."""
    if order.category.sla_policy_id:
        return order.category.sla_policy
    if order.urgency == Urgency.EMERGENCY:
        code = "elevator" if order.category.code == "elevator_trapped" else "urgent"
    elif order.urgency == Urgency.URGENT:
        code = "urgent"
    elif order.request_type in (RequestType.COMPLAINT, RequestType.SUGGESTION):
        code = "complaint"
    else:
        code = "normal"
    return SlaPolicy.objects.filter(company_id=order.company_id, code=code).first()


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime.datetime | None:
    return parse_datetime(value) if value else None


def _schedule(order):
    return schedule_for(order.sla["policy"], order.community)


def _clock(schedule, start, minutes, percent) -> dict:
    return {
        "start": _iso(start),
        "minutes": minutes,
        "risk": _iso(sla_clock.at_risk_at(schedule, start, minutes, percent)),
        "due": _iso(sla_clock.deadline(schedule, start, minutes)),
        "stopped": None,
        "late": None,
        "state": SlaState.ON_TRACK,
        "escalated": False,
    }


def start_clocks(order, *, now: datetime.datetime, only=CLOCKS) -> None:
    """Freeze the policy (on first start) and start the named clocks from ``now``."""
    if not order.sla:
        policy = policy_for(order)
        if policy is None:
            return
        order.sla = {"policy": policy.snapshot(), "clocks": {}}
    policy = order.sla["policy"]
    schedule = _schedule(order)
    for name in only:
        minutes = policy.get(f"{name}_minutes")
        if minutes:
            order.sla["clocks"][name] = _clock(schedule, now, minutes, policy["at_risk_percent"])
    _refresh(order, now)


def on_transition(order, action: str, *, now: datetime.datetime) -> None:
    """Apply a lifecycle step to the clocks (called inside the locked transition)."""
    if not order.sla:
        return
    clocks = order.sla["clocks"]
    if action in STOPPED_BY and STOPPED_BY[action] in clocks:
        _stop(clocks[STOPPED_BY[action]], now)
        if action in ("complete", "resolve"):  # also ends an on-site clock never marked
            for other in clocks.values():
                _stop(other, now)
    elif action == "pause":
        order.paused_at = now
    elif action == "resume":
        _resume(order, now)
    elif action == "reopen":
        if RECOVERY in clocks:
            _stop(clocks[RECOVERY], now)
        start_clocks(order, now=now, only=("arrival", "resolution"))
        return
    elif action in ("cancel", "reject", "close", "return_visit"):
        for running in clocks.values():
            _stop(running, now, count_late=action in ("close", "return_visit"))
    _refresh(order, now)


def start_recovery(order, *, now: datetime.datetime) -> None:
    """Start the service-recovery clock (``WORKORDER_RECOVERY_MINUTES`` on the order's
    calendar); the sweep warns, breaches and escalates it like the other clocks."""
    if not order.sla:
        return
    schedule = _schedule(order)
    order.sla["clocks"][RECOVERY] = _clock(
        schedule, now, settings.WORKORDER_RECOVERY_MINUTES, order.sla["policy"]["at_risk_percent"]
    )
    _refresh(order, now)


def recovery_due(order) -> datetime.datetime | None:
    """The running service-recovery deadline, if a low rating opened one."""
    running = (order.sla or {}).get("clocks", {}).get(RECOVERY)
    return None if not running or running["stopped"] else _dt(running["due"])


def _stop(running: dict, now, *, count_late: bool = True) -> None:
    if running["stopped"]:
        return
    running["stopped"] = _iso(now)
    due = _dt(running["due"])
    running["late"] = sla_clock.breach_minutes(due, now) if count_late else 0
    if running["late"]:
        running["state"] = SlaState.BREACHED


def _resume(order, now) -> None:
    paused_at = order.paused_at
    order.paused_at = None
    if paused_at is None:
        return
    schedule = _schedule(order)
    for running in order.sla["clocks"].values():
        if running["stopped"]:
            continue
        for key in ("risk", "due"):
            running[key] = _iso(sla_clock.extend(schedule, _dt(running[key]), paused_at, now))


JUST_AFTER = datetime.timedelta(microseconds=1)


def _escalate_after() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.WORKORDER_ESCALATE_AFTER_MINUTES)


def _next_instant(running: dict) -> datetime.datetime | None:
    if running["stopped"]:
        return None
    if running["state"] == SlaState.ON_TRACK:
        return _dt(running["risk"])
    if running["state"] == SlaState.AT_RISK:
        # Breached means past the deadline: look again just after it, never at it
        # (a check at ``due`` itself would find nothing to change and come due again).
        return _dt(running["due"]) + JUST_AFTER
    if not running["escalated"]:
        return _dt(running["due"]) + _escalate_after()
    return None


def _refresh(order, now) -> None:
    """Copy deadlines to columns, the worst state, and the next check instant."""
    clocks = order.sla.get("clocks", {})
    for name in CLOCKS:
        setattr(order, f"{name}_due", _dt(clocks[name]["due"]) if name in clocks else None)
    order.sla_state = max(
        (c["state"] for c in clocks.values()), key=STATE_RANK.get, default=SlaState.ON_TRACK
    )
    upcoming = [t for c in clocks.values() if (t := _next_instant(c)) is not None]
    order.sla_next_check = None if order.paused_at or not upcoming else min(upcoming)


def evaluate(order, *, now: datetime.datetime) -> list[tuple[str, str, dict]]:
    """Advance the running clocks to ``now``; returns the events to record as
    (event type, note, payload). Pure apart from mutating ``order``."""
    events = []
    if order.paused_at:
        return events
    for name, running in order.sla.get("clocks", {}).items():
        if running["stopped"]:
            continue
        due, risk = _dt(running["due"]), _dt(running["risk"])
        before = running["state"]
        if now > due:
            running["state"] = SlaState.BREACHED
        elif now >= risk:
            running["state"] = SlaState.AT_RISK
        payload = {"clock": name, "due": running["due"]}
        if running["state"] != before:
            kind = (
                EventType.SLA_BREACHED
                if running["state"] == SlaState.BREACHED
                else EventType.SLA_AT_RISK
            )
            events.append((kind, CLOCK_LABELS[name], payload))
        if (
            running["state"] == SlaState.BREACHED
            and not running["escalated"]
            and now >= due + _escalate_after()
        ):
            running["escalated"] = True
            events.append((EventType.SLA_ESCALATED, CLOCK_LABELS[name], payload))
    _refresh(order, now)
    return events


CLOCK_LABELS = {
    "response": _("response"),
    "arrival": _("on-site arrival"),
    "resolution": _("resolution"),
    RECOVERY: _("service recovery"),
}
