"""``/api/v1/facilities`` — the equipment ledger, certificates, round plans and tasks, and
doing a round from a phone: scan a stop's QR code, answer the checklist it returns,
finish; supervisors accept maintenance.

Reads are scoped with the models' ``visible_to`` (overseers by community, field staff
their own tasks); writes call ``wuye.facilities.services`` and ``rounds``. Photos are
uploaded first with POST /photos and named here by id.
"""

import datetime
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    actor,
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.models import Photo
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import Building, CommonArea, Community
from wuye.facilities import rounds, services
from wuye.facilities.models import (
    Answer,
    Asset,
    AssetCategory,
    Certificate,
    Downtime,
    Plan,
    PlanStop,
    Task,
    Vendor,
    Visit,
)
from wuye.facilities.schemas import (
    AnswersIn,
    AssetFilters,
    AssetIn,
    AssetListOut,
    AssetOut,
    AssetStatusIn,
    CertificateFilters,
    CertificateListOut,
    PlanFilters,
    PlanListOut,
    PlanOut,
    ScanIn,
    TaskFilters,
    TaskListOut,
    TaskOut,
    VisitOut,
)

router = Router(tags=["facilities"])

# The services name the related objects; the API's fields are their ids.
REF_FIELDS = {
    "community": "community_id",
    "category": "category_id",
    "building": "building_id",
    "common_area": "common_area_id",
    "vendor": "vendor_id",
}


@contextmanager
def _id_field_names():
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, api_field in REF_FIELDS.items():
                if field in exc.error_dict:
                    exc.error_dict[api_field] = exc.error_dict.pop(field)
        raise


# --- read helpers -----------------------------------------------------------------------
def _assets():
    return Asset.objects.select_related("community", "category")


def _asset_detail():
    open_downtime = Downtime.objects.filter(ended_at__isnull=True)
    return (
        _assets()
        .select_related("vendor")
        .prefetch_related(
            "certificates",
            Prefetch("downtimes", queryset=open_downtime, to_attr="open_downtimes"),
        )
    )


def _plans():
    return Plan.objects.select_related("community", "template", "assignee")


def _with_stops_and_items(prefix: str) -> tuple:
    """Prefetches of a plan's stops (with their asset or checkpoint) and checklist items."""
    stops = PlanStop.objects.select_related("asset", "checkpoint")
    return (
        Prefetch(f"{prefix}stops", queryset=stops),
        f"{prefix}template__items",
    )


def _count(queryset, field: str):
    """A correlated COUNT(*) of ``queryset`` rows whose ``field`` is the outer row's."""
    counted = queryset.order_by().values(field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _tasks():
    """Tasks with their stop and check-in counts: two correlated counts per row of
    the page, not a GROUP BY over every visible task."""
    return Task.objects.select_related("plan", "community", "assignee").annotate(
        stop_count=_count(PlanStop.objects.filter(plan=OuterRef("plan")), "plan"),
        visited_count=_count(Visit.objects.filter(task=OuterRef("pk")), "task"),
    )


def _task_detail():
    visits = Visit.objects.annotate(answered=Exists(Answer.objects.filter(visit=OuterRef("pk"))))
    return (
        _tasks()
        .select_related("plan__template")
        .prefetch_related(*_with_stops_and_items("plan__"), Prefetch("visits", queryset=visits))
    )


def _visit_detail(visit_id: int) -> Visit:
    answers = Answer.objects.select_related("item", "work_order").prefetch_related("photos")
    return (
        Visit.objects.select_related("stop__asset", "stop__checkpoint", "task__plan__template")
        .prefetch_related("task__plan__template__items", Prefetch("answers", queryset=answers))
        .get(pk=visit_id)
    )


# --- the ledger -----------------------------------------------------------------------
@router.get(
    "/facilities/assets",
    response={200: list[AssetListOut], **LIST_ERRORS},
    summary="List equipment (设备台账)",
    description="Assets of the caller's communities, for staff who view or manage "
    "facilities or do rounds. Keyset-paginated on id.",
)
@paginate(IdCursorPagination)
def list_assets(request, filters: Query[AssetFilters]):
    qs = _assets().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(Q(code__icontains=filters.q) | Q(name__icontains=filters.q))
    return qs


@router.post(
    "/facilities/assets",
    response={201: AssetOut, **WRITE_ERRORS},
    summary="Register an asset",
    description="facilities.manage in the community. Without `code` the asset gets the "
    "next code of its category's prefix.",
)
@idempotent
def create_asset(request, payload: AssetIn):
    who = actor(request)
    data = payload.model_dump()
    refs = {
        "community": visible_ref(Community.objects, who, data.pop("community_id"), "community_id"),
        "category": visible_ref(AssetCategory.objects, who, data.pop("category_id"), "category_id"),
        "building": visible_ref(Building.objects, who, data.pop("building_id"), "building_id"),
        "common_area": visible_ref(
            CommonArea.objects, who, data.pop("common_area_id"), "common_area_id"
        ),
        "vendor": visible_ref(Vendor.objects, who, data.pop("vendor_id"), "vendor_id"),
    }
    with _id_field_names():
        asset = services.create_asset(actor=who, **refs, **data)
    return Status(201, _asset_detail().get(pk=asset.pk))


@router.get(
    "/facilities/assets/{asset_id}",
    response={200: AssetOut, **READ_ERRORS},
    summary="An asset with its certificates and current downtime",
)
def get_asset(request, asset_id: Id):
    return get_visible_or_404(_asset_detail(), actor(request), pk=asset_id)


@router.post(
    "/facilities/assets/{asset_id}/status",
    response={200: AssetOut, **WRITE_ERRORS},
    summary="Change an asset's status (运行 / 停用 / 维修中 / 报废)",
    description="Leaving running opens a downtime interval (a reason is required); "
    "returning to running closes it. A scrapped asset stays scrapped.",
)
def change_asset_status(request, asset_id: Id, payload: AssetStatusIn):
    who = actor(request)
    asset = get_visible_or_404(Asset.objects.select_related("community"), who, pk=asset_id)
    services.change_status(actor=who, asset=asset, status=payload.status, reason=payload.reason)
    return _asset_detail().get(pk=asset.pk)


@router.get(
    "/facilities/certificates",
    response={200: list[CertificateListOut], **LIST_ERRORS},
    summary="List statutory certificates (电梯年检, 消防检测 …)",
    description="Certificates of the assets the caller sees; `expiring_within` lists "
    "those due for renewal. Keyset-paginated on id.",
)
@paginate(IdCursorPagination)
def list_certificates(request, filters: Query[CertificateFilters]):
    assets = Asset.objects.visible_to(actor(request))
    qs = Certificate.objects.current().select_related("asset").filter(asset__in=assets)
    if filters.community:
        qs = qs.filter(asset__community_id=filters.community)
    if filters.asset:
        qs = qs.filter(asset_id=filters.asset)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.expiring_within is not None:
        horizon = timezone.localdate() + datetime.timedelta(days=filters.expiring_within)
        qs = qs.filter(expires_on__lte=horizon)
    return qs


# --- plans ----------------------------------------------------------------------------
@router.get(
    "/facilities/plans",
    response={200: list[PlanListOut], **LIST_ERRORS},
    summary="List round plans",
    description="Office work: staff who view or manage facilities, by community "
    "(field staff see their tasks instead). Keyset-paginated on id.",
)
@paginate(IdCursorPagination)
def list_plans(request, filters: Query[PlanFilters]):
    qs = _plans().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return qs


@router.get(
    "/facilities/plans/{plan_id}",
    response={200: PlanOut, **READ_ERRORS},
    summary="A plan with its stops and checklist",
)
def get_plan(request, plan_id: Id):
    qs = _plans().prefetch_related(*_with_stops_and_items(""))
    return get_visible_or_404(qs, actor(request), pk=plan_id)


# --- tasks and rounds -------------------------------------------------------------------
@router.get(
    "/facilities/tasks",
    response={200: list[TaskListOut], **LIST_ERRORS},
    summary="List round tasks",
    description="Field staff see the tasks assigned to them; overseers their "
    "communities'. Today's by default (Asia/Shanghai). Keyset-paginated on id.",
)
@paginate(IdCursorPagination)
def list_tasks(request, filters: Query[TaskFilters]):
    who = actor(request)
    qs = _tasks().visible_to(who)
    if filters.date_from or filters.date_to:
        if filters.date_from:
            qs = qs.filter(date__gte=filters.date_from)
        if filters.date_to:
            qs = qs.filter(date__lte=filters.date_to)
    else:
        qs = qs.filter(date=filters.date or timezone.localdate())
    if filters.mine:
        qs = qs.filter(assignee=who.staff) if who.staff else qs.none()
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.plan:
        qs = qs.filter(plan_id=filters.plan)
    return qs


@router.get(
    "/facilities/tasks/{task_id}",
    response={200: TaskOut, **READ_ERRORS},
    summary="A task: its stops with their check-ins and the checklist to render",
)
def get_task(request, task_id: Id):
    return get_visible_or_404(_task_detail(), actor(request), pk=task_id)


def _token(code: str) -> str:
    """The token of a scanned label: the label's link ends with it."""
    return code.strip().split("?")[0].rstrip("/").rsplit("/", 1)[-1]


@router.post(
    "/facilities/scan",
    response={201: VisitOut, **WRITE_ERRORS},
    summary="Check in at a stop by its QR code (扫码打卡)",
    description="Starts the caller's open task for today at that stop and returns the "
    "visit with the checklist to fill in. Unknown codes and other communities' codes "
    "get the same 400 on `code`, as do places with no task today and second scans.",
)
@idempotent
def scan(request, payload: ScanIn):
    visit = rounds.scan(
        actor=actor(request),
        token=_token(payload.code),
        latitude=payload.latitude,
        longitude=payload.longitude,
    )
    return Status(201, _visit_detail(visit.pk))


def _known_items(visit: Visit, item_ids) -> None:
    """Answers and photos only for items of the visit's checklist: a stray id would
    otherwise be dropped without a word."""
    known = set(visit.task.plan.template.items.values_list("pk", flat=True))
    stray = sorted(set(item_ids) - known)
    if stray:
        raise ValidationError(
            {f"items[{pk}]": _("This item is not on the checklist of this stop.") for pk in stray}
        )


@router.post(
    "/facilities/visits/{visit_id}/answers",
    response={200: VisitOut, **WRITE_ERRORS},
    summary="Answer the checklist at a visited stop",
    description="All or nothing: every answer is checked first and a mistake is a 400 "
    "naming `items[<id>]` (wrong unit, missing answer, missing photo…). An abnormal "
    "answer of an item that opens work orders returns the order's id and number.",
)
@idempotent
def answer_visit(request, visit_id: Id, payload: AnswersIn):
    who = actor(request)
    get_visible_or_404(Task.objects, who, visits=visit_id)
    visit = _visit_detail(visit_id)
    _known_items(visit, [*payload.answers, *payload.photos])
    photos = {
        item_id: visible_refs(Photo.objects, who, ids, f"photos[{item_id}]")
        for item_id, ids in payload.photos.items()
    }
    rounds.record_answers(actor=who, visit=visit, answers=payload.answers, photos=photos)
    return _visit_detail(visit_id)


@router.post(
    "/facilities/tasks/{task_id}/finish",
    response={200: TaskOut, **WRITE_ERRORS},
    summary="Finish a round",
    description="The assignee, once every stop is checked in and answered; maintenance "
    "then awaits acceptance.",
)
def finish_task(request, task_id: Id):
    who = actor(request)
    task = get_visible_or_404(Task.objects, who, pk=task_id)
    rounds.finish(actor=who, task=task)
    return _task_detail().get(pk=task.pk)


@router.post(
    "/facilities/tasks/{task_id}/accept",
    response={200: TaskOut, **WRITE_ERRORS},
    summary="Accept finished maintenance (验收)",
    description="facilities.manage in the task's community.",
)
def accept_task(request, task_id: Id):
    who = actor(request)
    task = get_visible_or_404(Task.objects, who, pk=task_id)
    rounds.accept(actor=who, task=task)
    return _task_detail().get(pk=task.pk)
