"""Doing a round on the phone: scan a stop's QR, answer its checklist, finish; abnormal
answers open work orders through the service-request engine; supervisors accept
maintenance; tasks nobody finished in their window become missed.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wuye.core.services import require
from wuye.facilities.models import (
    Answer,
    Asset,
    Checkpoint,
    ItemType,
    PlanStop,
    Task,
    Visit,
)
from wuye.facilities.services import parse_answer

WORK = "facilities.work"
OPEN = (Task.Status.PENDING, Task.Status.IN_PROGRESS)
# A task still counts as on time this long after its window closes before it is missed.
MISSED_AFTER = datetime.timedelta(hours=1)


def target_for(actor, token: str):
    """The asset or checkpoint behind a QR token, if the actor may see it; else a
    ValidationError that says nothing about other communities' codes."""
    token = (token or "").strip()
    for model in (Asset, Checkpoint):
        found = model.objects.visible_to(actor).filter(qr_token=token).first()
        if found is not None:
            return found
    raise ValidationError({"code": _("This QR code is not one of your community's.")})


def _stops_of(target):
    field = "asset" if isinstance(target, Asset) else "checkpoint"
    return PlanStop.objects.filter(**{field: target})


@transaction.atomic
def scan(*, actor, token: str, at=None, latitude=None, longitude=None) -> Visit:
    """Check in at a stop of the actor's open task for today. Early and late scans are
    kept with their timing (the report shows them); a second scan is refused."""
    require(actor, WORK)
    at = at or timezone.now()
    target = target_for(actor, token)
    stops = _stops_of(target)
    task = (
        Task.objects.select_for_update()
        .filter(
            assignee=actor.staff,
            date=timezone.localdate(at),
            status__in=OPEN,
            plan__stops__in=stops,
        )
        .order_by("opens_at", "id")
        .first()
    )
    if task is None:
        raise ValidationError(
            {"code": _("You have no open task at %(place)s today.") % {"place": target}}
        )
    stop = stops.filter(plan_id=task.plan_id).order_by("position").first()
    if Visit.objects.filter(task=task, stop=stop).exists():
        raise ValidationError({"code": _("You already checked in here for this task.")})
    if at < task.opens_at:
        timing = Visit.Timing.EARLY
    elif at > task.closes_at:
        timing = Visit.Timing.LATE
    else:
        timing = Visit.Timing.ON_TIME
    visit = Visit.objects.create(
        task=task,
        stop=stop,
        scanned_at=at,
        timing=timing,
        latitude=latitude,
        longitude=longitude,
    )
    if task.status == Task.Status.PENDING:
        task.status, task.started_at = Task.Status.IN_PROGRESS, at
        task.save(update_fields=["status", "started_at"])
    return visit


@transaction.atomic
def record_answers(*, actor, visit: Visit, answers: dict, photos: dict | None = None) -> list:
    """Answer the checklist at a visited stop: every item is checked first (errors name
    ``items[<id>]``) and nothing is saved unless all are valid. Abnormal answers of
    items that open work orders do so, linked to the stop's asset."""
    photos = photos or {}
    task = Task.objects.select_for_update().get(pk=visit.task_id)
    if task.assignee_id != (actor.staff.pk if actor.staff else None):
        raise PermissionDenied
    if task.status != Task.Status.IN_PROGRESS:
        raise ValidationError(_("This task is not in progress."))
    if visit.answers.exists():
        raise ValidationError(_("This stop has been answered already."))
    items = list(task.plan.template.items.select_related("order_category"))
    errors, parsed = {}, []
    for item in items:
        key = f"items[{item.pk}]"
        try:
            value, abnormal = parse_answer(item, answers.get(item.pk), field=key)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        attached = list(photos.get(item.pk, ()))
        if (
            item.photo_required or (item.type == ItemType.PHOTO and item.required)
        ) and not attached:
            errors[key] = [_("Take a photo for “%(item)s”.") % {"item": item.label}]
            continue
        parsed.append((item, value, abnormal, attached))
    if errors:
        raise ValidationError(errors)
    stop = visit.stop
    saved = []
    for item, value, abnormal, attached in parsed:
        answer = Answer.objects.create(
            visit=visit,
            item=item,
            value=str(value) if value is not None and not isinstance(value, bool | list) else value,
            is_abnormal=abnormal,
        )
        if attached:
            answer.photos.set(attached)
        if abnormal and item.creates_order:
            answer.work_order = _open_order(actor, task, stop, item, value, attached)
            answer.save(update_fields=["work_order"])
        saved.append(answer)
    found = sum(1 for a in saved if a.is_abnormal)
    if found:
        task.abnormal_count += found
        task.save(update_fields=["abnormal_count"])
    return saved


def _open_order(actor, task, stop, item, value, photos):
    from wuye.workorders.models import Channel
    from wuye.workorders.services import submit_order

    shown = f"{value}{item.unit}" if item.unit else str(value)
    return submit_order(
        actor=actor,
        category=item.order_category,
        asset=stop.asset,
        common_area=stop.checkpoint.common_area if stop.checkpoint_id else None,
        channel=Channel.INSPECTION,
        description=_("%(plan)s: %(item)s is abnormal (%(value)s) at %(place)s")
        % {"plan": task.plan.name, "item": item.label, "value": shown, "place": stop.target},
        contact_name=actor.staff.name,
        contact_mobile=actor.staff.mobile or actor.user.mobile or "",
        photos=photos,
    )


@transaction.atomic
def finish(*, actor, task: Task, at=None) -> Task:
    """Done when every stop is visited and answered; maintenance then waits for the
    supervisor's acceptance."""
    at = at or timezone.now()
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.assignee_id != (actor.staff.pk if actor.staff else None):
        raise PermissionDenied
    if locked.status != Task.Status.IN_PROGRESS:
        raise ValidationError(_("This task is not in progress."))
    answered = set(
        Visit.objects.filter(task=locked, answers__isnull=False).values_list("stop_id", flat=True)
    )
    missing = [str(s) for s in locked.plan.stops.order_by("position") if s.pk not in answered]
    if missing:
        raise ValidationError(
            _("Check in and answer at every stop first: %(stops)s.") % {"stops": "、".join(missing)}
        )
    locked.status = (
        Task.Status.AWAITING_ACCEPTANCE if locked.plan.requires_acceptance else Task.Status.DONE
    )
    locked.completed_at = at
    locked.save(update_fields=["status", "completed_at"])
    return locked


@transaction.atomic
def accept(*, actor, task: Task) -> Task:
    """The supervisor (``facilities.manage`` in the community) accepts maintenance work."""
    require(actor, "facilities.manage")
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if locked.community_id not in actor.community_ids:
        raise PermissionDenied
    if locked.status != Task.Status.AWAITING_ACCEPTANCE:
        raise ValidationError(_("This task is not waiting for acceptance."))
    locked.status = Task.Status.DONE
    locked.save(update_fields=["status"])
    return locked


def mark_missed(*, now=None) -> int:
    """Open tasks whose window closed more than ``MISSED_AFTER`` ago become missed."""
    now = now or timezone.now()
    return Task.objects.filter(status__in=OPEN, closes_at__lt=now - MISSED_AFTER).update(
        status=Task.Status.MISSED
    )


def todays_stop(*, actor, target, at=None):
    """The actor's open task of today with a stop at ``target`` (what ``scan`` would
    check in to) as ``(task, stop, visit)``, the visit being None before the scan;
    None when the actor has no such task. Reads only: the QR landing page asks it."""
    if not actor.staff or not actor.has_perm(WORK):
        return None
    stops = _stops_of(target)
    task = (
        Task.objects.filter(
            assignee=actor.staff,
            date=timezone.localdate(at or timezone.now()),
            status__in=OPEN,
            plan__stops__in=stops,
        )
        .select_related("plan")
        .order_by("opens_at", "id")
        .first()
    )
    if task is None:
        return None
    stop = stops.filter(plan_id=task.plan_id).order_by("position").first()
    return task, stop, Visit.objects.filter(task=task, stop=stop).first()


def shown_value(item, value) -> str:
    """An answer as a person reads it: 正常/异常, choices joined, numbers without
    trailing zeros and with the unit; photo items are their photos."""
    if isinstance(value, bool):
        if value:
            return pgettext("checklist answer", "Normal")
        return pgettext("checklist answer", "Abnormal")
    if isinstance(value, list):
        return "、".join(value)
    if value is None:
        return "" if item.type == ItemType.PHOTO else "—"
    if item.type in (ItemType.NUMBER, ItemType.METER):
        value = format(Decimal(value).normalize(), "f")
    return f"{value} {item.unit}" if item.unit else str(value)


@transaction.atomic
def report_from_answer(*, actor, answer: Answer, category):
    """One tap on an abnormal answer whose item does not open an order by rule: the
    assignee files a repair order of ``category`` at the stop, linked to the answer."""
    require(actor, WORK)
    locked = (
        Answer.objects.select_for_update().select_related("visit__task", "item").get(pk=answer.pk)
    )
    task = locked.visit.task
    if task.assignee_id != (actor.staff.pk if actor.staff else None):
        raise PermissionDenied
    if not locked.is_abnormal:
        raise ValidationError(_("Only an abnormal answer can be reported for repair."))
    if locked.work_order_id:
        raise ValidationError(_("A work order was already opened for this answer."))
    item = locked.item
    item.order_category = category  # this order's category; the item itself is not saved
    # numbers are stored as text and get their unit in the description; the rest is read out
    value = locked.value if isinstance(locked.value, str) else shown_value(item, locked.value)
    stop = locked.visit.stop
    locked.work_order = _open_order(actor, task, stop, item, value, list(locked.photos.all()))
    locked.save(update_fields=["work_order"])
    return locked.work_order
