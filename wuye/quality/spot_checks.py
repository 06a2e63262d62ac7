"""Conduct spot checks (品质巡查): the writes and the reads.

Writes (keyword-only, ``actor=`` first, atomic):
- ``record_spot_check`` — a quality officer or supervisor scores one staff member of a
  community against the company's active checklist items. The score is worked out here:
  points kept ÷ points checked × 100, one decimal (half up). Each line is stored as a
  copy of the item (aspect, text, points), so later edits of the checklist leave past
  checks as they were.
- ``create_conduct_item``, ``update_conduct_item``, ``set_conduct_item_active``,
  ``move_conduct_item`` — the company's checklist; only company-wide actors with
  ``quality.manage`` may change it (it is company master data).

Reads: ``visible_spot_checks`` and its filters, ``aspect_summary`` / ``most_failed_items``
(figures over a set of checks, by the database), ``check_aspects`` (one check's score per
aspect), ``subject_candidates`` (whom an inspector may check), ``photo_visible`` (for
``wuye.core.photos``).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.quality.models import ConductAspect, ConductItem, SpotCheck, SpotCheckMark
from wuye.staff.models import StaffMember

MAX_PHOTOS = 9
ONE_DECIMAL = Decimal("0.1")
CANDIDATES_SHOWN = 20


# --- scoring --------------------------------------------------------------------------------
def score_of(kept_points: int, checked_points: int) -> Decimal | None:
    """Points kept ÷ points checked × 100 with one decimal (half up); None if nothing
    was checked."""
    if not checked_points:
        return None
    return (Decimal(100 * kept_points) / checked_points).quantize(ONE_DECIMAL, ROUND_HALF_UP)


# --- spot checks ----------------------------------------------------------------------------
def subject_candidates(actor, community, query: str = ""):
    """Active staff of ``community`` (one of the actor's) the actor may check, matched
    by name or username; at most ``CANDIDATES_SHOWN``."""
    if community.pk not in actor.community_ids:
        return StaffMember.objects.none()
    members = StaffMember.objects.filter(
        company_id=community.company_id, is_active=True, communities=community
    ).exclude(pk=actor.staff.pk)
    query = query.strip()
    if query:
        members = members.filter(Q(name__icontains=query) | Q(user__username__icontains=query))
    return members.select_related("user").order_by("name", "id")[:CANDIDATES_SHOWN]


def _check_subject(actor, community, subject) -> None:
    if subject is None:
        raise ValidationError({"subject": _("Choose the staff member you checked.")})
    if subject.pk == actor.staff.pk:
        raise ValidationError({"subject": _("You cannot check yourself.")})
    in_community = StaffMember.objects.filter(
        pk=subject.pk, company_id=community.company_id, is_active=True, communities=community
    ).exists()
    if not in_community:
        raise ValidationError({"subject": _("Choose a staff member of this community.")})


def _lines(company_id: int, marks) -> list[tuple[ConductItem, bool, str]]:
    """(item, kept, note) for each mark ``{"item": id, "kept": bool, "note": str}``;
    every item must be an active item of the company and appear once."""
    marks = list(marks)
    if not marks:
        raise ValidationError({"marks": _("Score at least one checklist item.")})
    ids = [mark["item"] for mark in marks]
    if len(set(ids)) != len(ids):
        raise ValidationError({"marks": _("Each checklist item can be scored only once.")})
    items = ConductItem.objects.filter(company_id=company_id, is_active=True).in_bulk(ids)
    if len(items) != len(ids):
        raise ValidationError({"marks": _("Unknown or inactive checklist item.")})
    lines = []
    for mark in marks:
        note = (mark.get("note") or "").strip()
        if len(note) > 200:
            raise ValidationError({"marks": _("A note is at most 200 characters.")})
        lines.append((items[mark["item"]], bool(mark["kept"]), note))
    return lines


def _check_photos(actor, company_id: int, photos) -> list:
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS}})
    for photo in photos:
        if photo.uploaded_by_id != actor.user.pk or photo.company_id != company_id:
            raise ValidationError({"photos": _("Attach photos you uploaded yourself.")})
    return photos


@transaction.atomic
def record_spot_check(
    *, actor, community, subject, marks, place: str = "", note: str = "", photos=()
) -> SpotCheck:
    """Record a spot check of ``subject`` in ``community``; ``marks`` are
    ``{"item": ConductItem id, "kept": bool, "note": str}``, ``photos`` the actor's own
    stored photos. Refusals raise ValidationError naming the field and write nothing."""
    require(actor, "quality.inspect")
    if community is None or community.pk not in actor.community_ids:
        raise ValidationError({"community": _("Choose one of your communities.")})
    _check_subject(actor, community, subject)
    lines = _lines(community.company_id, marks)
    photos = _check_photos(actor, community.company_id, photos)
    checked = sum(item.points for item, _kept, _note in lines)
    kept = sum(item.points for item, was_kept, _note in lines if was_kept)
    check = SpotCheck(
        company_id=community.company_id,
        community=community,
        subject=subject,
        inspector=actor.user,
        place=place.strip(),
        checked_at=timezone.now(),
        score=score_of(kept, checked),
        note=note.strip(),
    )
    full_clean(check)
    check.save()
    SpotCheckMark.objects.bulk_create(
        SpotCheckMark(
            spot_check=check,
            item=item,
            aspect=item.aspect,
            text=item.text,
            points=item.points,
            kept=was_kept,
            note=line_note,
        )
        for item, was_kept, line_note in lines
    )
    if photos:
        check.photos.set(photos)
    return check


def checklist_marks(company_id: int, failed: dict[int, str] | None = None) -> list[dict]:
    """Marks for every active item of the company, kept unless named in ``failed``
    (item id → note). The demo and tests use it to record a check in one call."""
    failed = failed or {}
    return [
        {"item": pk, "kept": pk not in failed, "note": failed.get(pk, "")}
        for pk in ordered_items(company_id, active_only=True).values_list("pk", flat=True)
    ]


# --- the checklist --------------------------------------------------------------------------
def may_edit_checklist(actor) -> bool:
    return actor.has_perm("quality.manage") and actor.company_wide


def _require_checklist_editor(actor) -> None:
    """The checklist is company master data: company-wide actors with quality.manage."""
    require(actor, "quality.manage")
    if not actor.company_wide:
        raise PermissionDenied("quality.manage (company-wide)")


def _own_item(actor, item) -> None:
    if item.company_id != actor.staff.company_id:
        raise PermissionDenied("quality.manage")


ITEM_FIELDS = ("aspect", "rule_set", "text", "points")


@transaction.atomic
def create_conduct_item(
    *, actor, aspect: str, text: str, points: int = 1, rule_set: str = ""
) -> ConductItem:
    """A new checklist item at the end of the list."""
    _require_checklist_editor(actor)
    company_id = actor.staff.company_id
    last = ConductItem.objects.filter(company_id=company_id).aggregate(last=Max("sort_order"))
    item = ConductItem(
        company_id=company_id,
        aspect=aspect,
        text=text.strip(),
        points=points,
        rule_set=rule_set.strip(),
        sort_order=(last["last"] or 0) + 1,
    )
    full_clean(item)
    item.save()
    return item


@transaction.atomic
def update_conduct_item(*, actor, item: ConductItem, **changes) -> ConductItem:
    """Change an item's aspect, rule set, text or points; past checks keep their copies."""
    _require_checklist_editor(actor)
    _own_item(actor, item)
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    full_clean(item)
    item.save(update_fields=[*changes])
    return item


@transaction.atomic
def set_conduct_item_active(*, actor, item: ConductItem, active: bool) -> ConductItem:
    """Deactivate an item (new checks leave it out) or bring it back."""
    _require_checklist_editor(actor)
    _own_item(actor, item)
    item.is_active = active
    item.save(update_fields=["is_active"])
    return item


@transaction.atomic
def move_conduct_item(*, actor, item: ConductItem, direction: str) -> ConductItem:
    """Swap the item with its neighbour above (``up``) or below (``down``) in the list."""
    _require_checklist_editor(actor)
    _own_item(actor, item)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Move up or down.")})
    items = list(
        ConductItem.objects.select_for_update()
        .filter(company_id=item.company_id)
        .order_by("sort_order", "id")
    )
    # Number them 0…n-1 first, so equal sort orders (a fresh seed) swap cleanly.
    position = next(i for i, other in enumerate(items) if other.pk == item.pk)
    neighbour = position - 1 if direction == "up" else position + 1
    if not 0 <= neighbour < len(items):
        return item
    items[position], items[neighbour] = items[neighbour], items[position]
    for index, other in enumerate(items):
        other.sort_order = index
    ConductItem.objects.bulk_update(items, ["sort_order"])
    item.refresh_from_db(fields=["sort_order"])
    return item


# --- reads ----------------------------------------------------------------------------------
def visible_spot_checks(actor):
    return SpotCheck.objects.visible_to(actor)


def filter_spot_checks(
    checks,
    *,
    community=None,
    subject_id: int | None = None,
    staff_query: str = "",
    failing_aspect: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    score_below: Decimal | None = None,
):
    """``checks`` narrowed by each filter given: the staff member by id or by part of
    their name or username, a failed line in an aspect, local days (both included)."""
    if community is not None:
        checks = checks.filter(community=community)
    if subject_id is not None:
        checks = checks.filter(subject_id=subject_id)
    staff_query = staff_query.strip()
    if staff_query:
        checks = checks.filter(
            Q(subject__name__icontains=staff_query)
            | Q(subject__user__username__icontains=staff_query)
        )
    if failing_aspect:
        failing = SpotCheckMark.objects.filter(aspect=failing_aspect, kept=False)
        checks = checks.filter(pk__in=failing.values("spot_check_id"))
    if date_from:
        checks = checks.filter(checked_at__gte=_midnight(date_from))
    if date_to:
        checks = checks.filter(checked_at__lt=_midnight(date_to + datetime.timedelta(days=1)))
    if score_below is not None:
        checks = checks.filter(score__lt=score_below)
    return checks


def day_range(first: datetime.date, last: datetime.date) -> tuple:
    """The moments from the start of local day ``first`` to the end of ``last``."""
    return _midnight(first), _midnight(last + datetime.timedelta(days=1))


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _aspect_rows(marks) -> list[dict]:
    """Per aspect, in the code's order: points checked and kept, lines failed, score."""
    totals = {
        row["aspect"]: row
        for row in marks.values("aspect").annotate(
            points_checked=Sum("points"),
            points_kept=Sum("points", filter=Q(kept=True), default=0),
            lines_failed=Count("id", filter=Q(kept=False)),
        )
    }
    rows = []
    for aspect in ConductAspect:
        row = totals.get(aspect.value)
        if row is None:
            continue
        rows.append(
            {
                "aspect": aspect.value,
                "label": aspect.label,
                "checked": row["points_checked"],
                "kept": row["points_kept"],
                "failed": row["lines_failed"],
                "score": score_of(row["points_kept"], row["points_checked"]),
            }
        )
    return rows


def check_aspects(check: SpotCheck) -> list[dict]:
    """One check's score per aspect."""
    return _aspect_rows(SpotCheckMark.objects.filter(spot_check=check))


def aspects_with_marks(check: SpotCheck) -> list[dict]:
    """``check_aspects`` with each aspect's lines (``marks``) in checklist order."""
    marks = list(check.marks.order_by("id"))
    rows = check_aspects(check)
    for row in rows:
        row["marks"] = [mark for mark in marks if mark.aspect == row["aspect"]]
    return rows


def aspect_summary(checks) -> dict:
    """Over ``checks``: how many, their average score, and per aspect the points kept ÷
    points checked of all their lines (so a heavier item weighs more)."""
    overall = checks.aggregate(count=Count("id"), average=Avg("score"))
    average = overall["average"]
    return {
        "count": overall["count"],
        "average": None if average is None else Decimal(average).quantize(ONE_DECIMAL),
        "aspects": _aspect_rows(SpotCheckMark.objects.filter(spot_check__in=checks)),
    }


def most_failed_items(checks, *, limit: int = 10) -> list[dict]:
    """The checklist items failed most often in ``checks``, with how often they were
    checked; named by the item's current text."""
    return list(
        SpotCheckMark.objects.filter(spot_check__in=checks)
        .values("item_id")
        .annotate(
            failed=Count("id", filter=Q(kept=False)),
            checked=Count("id"),
            aspect=Max("aspect"),
            text=Max("item__text"),
        )
        .filter(failed__gt=0)
        .order_by("-failed", "item_id")[:limit]
    )


def photo_visible(actor, photo_id: int) -> bool:
    """A spot check's photo is seen by whoever sees the check (``wuye.core.photos``)."""
    if not actor.is_authenticated:
        return False
    return SpotCheck.objects.visible_to(actor).filter(photos=photo_id).exists()


def ordered_items(company_id: int, *, active_only: bool = False):
    items = ConductItem.objects.filter(company_id=company_id)
    if active_only:
        items = items.filter(is_active=True)
    return items.order_by("sort_order", "id")
