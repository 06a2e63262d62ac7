"""Who hears about an emergency: the responders of the playbook and the residents of
the affected area. Each is a couple of queries whatever the community's size."""

from django.db.models import Q

from wuye.incidents.models import Incident, Scope
from wuye.incidents.playbook import responders_for
from wuye.people.models import Residency
from wuye.staff.models import StaffMember


def responders(incident: Incident) -> tuple[set[int], list[str]]:
    """The user ids of the active staff the playbook calls for this incident, and the
    names of the roles they were called in (for the timeline)."""
    wanted = responders_for(incident.kind, incident.severity)
    links = (
        StaffMember.roles.through.objects.filter(
            role__company_id=incident.company_id,
            role__code__in={r.role for r in wanted},
            staffmember__is_active=True,
            staffmember__user__is_active=True,
        )
        .filter(Q(role__company_wide=True) | Q(staffmember__communities=incident.community_id))
        .values_list("staffmember_id", "staffmember__user_id", "role__code", "role__name")
        .distinct()
    )
    by_role: dict[str, dict[int, int]] = {}  # role code -> {member id: user id}
    role_names: dict[str, str] = {}
    for member_id, user_id, code, name in links:
        by_role.setdefault(code, {})[member_id] = user_id
        role_names[code] = name
    trades = _trades_of({m for members in by_role.values() for m in members}, wanted)
    users: set[int] = set()
    roles = []
    for responder in wanted:
        members = by_role.get(responder.role, {})
        if responder.trade:
            skilled = {m: u for m, u in members.items() if responder.trade in trades.get(m, ())}
            members = skilled or members
        if members:
            users.update(members.values())
            roles.append(role_names[responder.role])
    return users, roles


def _trades_of(member_ids: set[int], wanted) -> dict[int, set[str]]:
    codes = {r.trade for r in wanted if r.trade}
    if not codes or not member_ids:
        return {}
    trades: dict[int, set[str]] = {}
    for member_id, code in StaffMember.trades.through.objects.filter(
        staffmember_id__in=member_ids, trade__code__in=codes
    ).values_list("staffmember_id", "trade__code"):
        trades.setdefault(member_id, set()).add(code)
    return trades


def affected_residents(incident: Incident) -> set[int]:
    """The user ids of residents living now in the affected buildings (or anywhere in
    the community), with an active login. One query."""
    ties = Residency.objects.active().filter(
        house__community_id=incident.community_id,
        resident__company_id=incident.company_id,
        resident__user__isnull=False,
        resident__user__is_active=True,
    )
    if incident.scope == Scope.BUILDINGS:
        ties = ties.filter(house__building_id__in=incident.buildings.values("id"))
    return set(ties.values_list("resident__user_id", flat=True).distinct())
