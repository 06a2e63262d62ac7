"""Who is asking: the signed-in user resolved once per request into an ``Actor``.

An actor may be a staff member (with roles, permissions and community scope), a
resident (with the houses they currently live in), both, or neither. Querysets
ask the actor for Q objects; they never look at users, roles or residencies
themselves.
"""

from functools import cached_property

from django.db.models import Q
from django.utils.functional import SimpleLazyObject

NOTHING = Q(pk__in=[])


class Actor:
    def __init__(self, user):
        self.user = user

    def __repr__(self):
        return f"<Actor {self.user}>"

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user and self.user.is_authenticated)

    # --- staff side -------------------------------------------------------
    @cached_property
    def staff(self):
        from wuye.staff.models import StaffMember

        if not self.is_authenticated:
            return None
        return (
            StaffMember.objects.filter(user_id=self.user.pk, is_active=True)
            .select_related("company")
            .first()
        )

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if not self.staff:
            return frozenset()
        return frozenset(self.staff.roles.values_list("code", flat=True))

    @cached_property
    def permissions(self) -> frozenset[str]:
        if not self.staff:
            return frozenset()
        perms: set[str] = set()
        for role_perms in self.staff.roles.values_list("permissions", flat=True):
            perms.update(role_perms or ())
        return frozenset(perms)

    @cached_property
    def company_wide(self) -> bool:
        return bool(self.staff) and self.staff.roles.filter(company_wide=True).exists()

    @cached_property
    def community_ids(self) -> frozenset[int]:
        """Communities this staff member works in (all of the company if company-wide)."""
        from wuye.estates.models import Community

        if not self.staff:
            return frozenset()
        if self.company_wide:
            qs = Community.objects.filter(company_id=self.staff.company_id)
        else:
            qs = self.staff.communities.filter(company_id=self.staff.company_id)
        return frozenset(qs.values_list("id", flat=True))

    def has_perm(self, code: str) -> bool:
        return code in self.permissions

    def staff_q(
        self,
        *,
        community: str | None,
        company: str,
        perm: str | None = "estates.view",
        any_scope: bool = False,
    ) -> Q:
        """Rows this actor may see as staff.

        ``community``/``company`` are the lookup paths from the queried model to the
        community id and company id. Company-wide staff are filtered by company
        (one indexed equality); others by their communities. ``community=None``
        means the rows have no community, so only company-wide staff (or
        ``any_scope``) see them.
        """
        if not self.staff or (perm and not self.has_perm(perm)):
            return NOTHING
        if self.company_wide or any_scope:
            return Q(**{company: self.staff.company_id})
        if community is None:
            return NOTHING
        return Q(**{f"{community}__in": sorted(self.community_ids)})

    # --- resident side ----------------------------------------------------
    @cached_property
    def resident_house_ids(self) -> frozenset[int]:
        """Houses where this user currently lives, owns or rents (a handful at most).

        Materialised once per request so scoping filters become ``id IN (…)`` and
        an empty set drops out of the query entirely for staff-only users.
        """
        from wuye.people.models import Residency

        if not self.is_authenticated:
            return frozenset()
        ties = Residency.objects.active().filter(resident__user_id=self.user.pk)
        return frozenset(ties.values_list("house_id", flat=True))

    def resident_houses(self):
        from wuye.estates.models import House

        return House.objects.filter(id__in=sorted(self.resident_house_ids))

    @cached_property
    def _resident_community_ids(self) -> frozenset[int]:
        if not self.resident_house_ids:
            return frozenset()
        return frozenset(self.resident_houses().values_list("community_id", flat=True))

    def resident_community_ids(self) -> list[int]:
        return sorted(self._resident_community_ids)

    def resident_q(self, path: str) -> Q:
        """Rows whose ``path`` is one of the actor's current houses."""
        if not self.resident_house_ids:
            return NOTHING
        return Q(**{f"{path}__in": sorted(self.resident_house_ids)})

    @property
    def is_resident(self) -> bool:
        return bool(self.resident_house_ids)

    # --- both -------------------------------------------------------------
    @cached_property
    def company_ids(self) -> frozenset[int]:
        ids = set()
        if self.resident_house_ids:
            ids.update(self.resident_houses().values_list("company_id", flat=True))
        if self.staff:
            ids.add(self.staff.company_id)
        return frozenset(ids)

    @cached_property
    def home(self) -> str:
        """Which surface this actor lands on: console, field or resident."""
        from wuye.staff.policy import FIELD_ROLES

        if self.staff:
            if self.role_codes and self.role_codes <= FIELD_ROLES:
                return "field"
            return "console"
        return "resident"


def actor_for(user) -> Actor:
    return Actor(user)


def request_actor(request) -> Actor:
    """The actor for a request, cached on it; API auth may set ``request.user`` late."""
    actor = getattr(request, "_wuye_actor", None)
    if actor is None or actor.user is not request.user:
        actor = Actor(request.user)
        request._wuye_actor = actor
    return actor


def lazy_request_actor(request):
    return SimpleLazyObject(lambda: request_actor(request))
