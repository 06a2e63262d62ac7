"""Who is called when an emergency is reported, and what residents are told.

``PLAYBOOK`` is the one table: per kind, the responders (role code, and optionally the
trade they must have), whether residents of the affected area are told by default,
the advice they get, and the all-clear they get when it is resolved. Roles are data
(``staff.Role``); a company that renames a role code simply matches nobody for it.
"""

import dataclasses

from django.utils.translation import gettext_lazy as _

from wuye.incidents.models import Kind, Severity


@dataclasses.dataclass(frozen=True)
class Responders:
    """Members of ``role`` working in the community (or company-wide in that role).
    With ``trade``, only those of that trade; when nobody in the community has it, all
    members of the role: in an emergency nobody heard is worse than too many."""

    role: str
    trade: str = ""


@dataclasses.dataclass(frozen=True)
class Play:
    responders: tuple[Responders, ...]
    tell_residents: bool
    advice: object  # lazy text: the default message to residents when reported
    all_clear: object  # lazy text: the default message when resolved


MANAGER = Responders("project_manager")
DISPATCHER = Responders("dispatcher")
GUARDS = Responders("guard")
ADMINS = Responders("company_admin")

PLAYBOOK: dict[str, Play] = {
    Kind.WATER_OUTAGE: Play(
        (Responders("technician", "plumbing_electric"), MANAGER, DISPATCHER),
        True,
        _(
            "The water supply is interrupted. Staff are working on it; we will tell you "
            "when it is back. Please keep taps closed to avoid flooding when it returns."
        ),
        _("The water supply has been restored. Thank you for your patience."),
    ),
    Kind.POWER_OUTAGE: Play(
        (Responders("technician", "plumbing_electric"), MANAGER, DISPATCHER),
        True,
        _(
            "The power is out. Staff are working on it; please do not use the lifts and "
            "switch off sensitive appliances until it is back."
        ),
        _("The power supply has been restored. Thank you for your patience."),
    ),
    Kind.LIFT_ENTRAPMENT: Play(
        (Responders("technician", "elevator"), MANAGER, DISPATCHER),
        False,
        _(
            "A lift is out of service while staff free people trapped in it. Please use "
            "another lift or the stairs."
        ),
        _("The lift incident is over. Thank you for your patience."),
    ),
    Kind.FIRE: Play(
        (GUARDS, MANAGER, ADMINS),
        True,
        _(
            "A fire alarm has been raised. Stay calm, follow the staff's instructions, do "
            "not use the lifts and leave by the stairs if told to."
        ),
        _("The fire alarm is over. Thank you for your cooperation."),
    ),
    Kind.LEAK: Play(
        (Responders("technician", "pipes"), MANAGER, DISPATCHER),
        False,
        _("Staff are dealing with a leak. Please keep clear of the wet area."),
        _("The leak has been repaired. Thank you for your patience."),
    ),
    Kind.GAS_LEAK: Play(
        (GUARDS, MANAGER, ADMINS),
        True,
        _(
            "A gas leak has been reported. Do not use open flames or electrical switches, "
            "open the windows and leave the building if you smell gas."
        ),
        _("The gas leak has been dealt with and the area is safe."),
    ),
    Kind.OTHER: Play(
        (MANAGER, DISPATCHER),
        False,
        _("Staff are dealing with an emergency. Please follow their instructions."),
        _("The emergency is over. Thank you for your cooperation."),
    ),
}

# A critical emergency also reaches the company's administrators, whatever its kind.
CRITICAL_ALSO = {Severity.CRITICAL: (ADMINS,)}


def responders_for(kind: str, severity: str) -> tuple[Responders, ...]:
    wanted = PLAYBOOK[kind].responders + CRITICAL_ALSO.get(severity, ())
    return tuple(dict.fromkeys(wanted))
