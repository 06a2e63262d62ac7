"""Importing the registry workbook: upload checks, the job life cycle and the bulk write.

The write (``apply_rows``) runs in one transaction and only after every row of the
file passed ``workbook.check_file``: a bad row means nothing is written. Houses are
matched by (building, unit, number), residents by (company, mobile), and an open
residency is only created when the same person does not already live in the house,
so importing the same file twice changes nothing the second time.
"""

import logging
import os
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wuye.accounts.actor import Actor
from wuye.accounts.services import get_or_create_mobile_users
from wuye.core.services import require
from wuye.estates.models import Building, Community, House, Unit
from wuye.imports import workbook
from wuye.imports.models import ImportJob
from wuye.people.models import Residency, Resident

logger = logging.getLogger("wuye.imports")

BATCH = 1000
IN_CHUNK = 2000  # ids/values per IN (…) list, well under SQLite's variable limit
HOUSE_FIELDS = ("floor", "built_area", "indoor_area", "kind", "occupancy")
COUNT_KEYS = (
    "buildings_created",
    "units_created",
    "houses_created",
    "houses_updated",
    "residents_created",
    "residents_updated",
    "residencies_created",
    "residencies_updated",
)


class ImportInvalid(Exception):
    """The file has bad rows; nothing was written."""

    def __init__(self, errors: list[workbook.RowError]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


def check_actor(actor, community: Community) -> None:
    """Importing writes houses and residents of one community the actor manages."""
    require(actor, "estates.manage")
    require(actor, "people.manage")
    if actor.staff is None or community.company_id != actor.staff.company_id:
        raise PermissionDenied
    if community.id not in actor.community_ids:
        raise PermissionDenied


# --- upload ----------------------------------------------------------------------
def check_upload(upload) -> None:
    """Cheap checks before a job is created: type, size and the "房屋" sheet. Columns
    and rows are checked by the task (reading them can take seconds)."""
    name = getattr(upload, "name", "") or ""
    if os.path.splitext(name)[1].lower() != ".xlsx":
        raise ValidationError({"file": _("Upload an Excel .xlsx file.")})
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is larger than %(limit)s MB.")
                % {"limit": f"{limit / (1024 * 1024):g}"}
            }
        )
    try:
        names = workbook.sheet_names(upload)
    except workbook.FileError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if workbook.SHEET not in names:
        raise ValidationError({"file": workbook.missing_sheet_message()})


@transaction.atomic
def create_import_job(*, actor, community: Community, upload, language: str = "") -> ImportJob:
    """Store the upload as a pending job and queue the task that runs it."""
    check_actor(actor, community)
    check_upload(upload)
    job = ImportJob(
        company_id=community.company_id,
        community=community,
        actor=actor.user,
        original_name=os.path.basename(upload.name)[:200],
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
    )
    job.file.save(f"{community.company_id}-{community.id}.xlsx", upload, save=False)
    job.save()

    def enqueue():
        from wuye.imports.tasks import run_import

        run_import.enqueue(job.id)

    transaction.on_commit(enqueue)
    return job


# --- job life cycle --------------------------------------------------------------
def _move(job: ImportJob, old: str, new: str, **fields) -> bool:
    """Conditional status change; False when another worker got there first."""
    changed = ImportJob.objects.filter(pk=job.pk, status=old).update(status=new, **fields)
    if changed:
        job.status = new
        for name, value in fields.items():
            setattr(job, name, value)
    return bool(changed)


def start_validating(job: ImportJob) -> bool:
    return _move(job, ImportJob.Status.PENDING, ImportJob.Status.VALIDATING, started_at=_now())


def start_writing(job: ImportJob, *, total_rows: int) -> bool:
    return _move(
        job,
        ImportJob.Status.VALIDATING,
        ImportJob.Status.IMPORTING,
        total_rows=total_rows,
        processed_rows=total_rows,
    )


def fail_job(job: ImportJob, errors: list[workbook.RowError], *, total_rows: int = 0) -> bool:
    stored = [e.as_dict() for e in errors[: workbook.MAX_STORED_ERRORS]]
    return _move(
        job,
        job.status,
        ImportJob.Status.FAILED,
        errors=stored,
        error_count=len(errors),
        total_rows=total_rows or job.total_rows,
        finished_at=_now(),
    )


def finish_job(job: ImportJob, counts: dict) -> bool:
    return _move(
        job, ImportJob.Status.IMPORTING, ImportJob.Status.DONE, counts=counts, finished_at=_now()
    )


def run_import_job(*, job_id: int) -> str:
    """Check every row, then write them all or nothing. Returns the final status."""
    job = ImportJob.objects.select_related("community", "actor").get(pk=job_id)
    if not start_validating(job):
        return job.status
    with translation.override(job.language):
        try:
            return _run(job)
        except Exception:
            # A bug must not leave the page polling forever; the task records the error.
            fail_job(
                job,
                [
                    workbook.RowError(
                        0, "", _("The import stopped on an internal error; nothing was written.")
                    )
                ],
            )
            raise


def _run(job: ImportJob) -> str:
    def progress(done: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=done)

    def expect(total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total)

    try:
        with job.file.open("rb") as handle:
            checked = workbook.check_file(handle, progress=progress, on_declared=expect)
    except workbook.FileError as exc:
        fail_job(job, [workbook.RowError(0, "", str(exc))])
        return job.status
    if not checked.ok:
        fail_job(job, checked.errors, total_rows=checked.total_rows)
        return job.status
    if not start_writing(job, total_rows=checked.total_rows):
        return job.status
    try:
        counts = apply_rows(actor=Actor(job.actor), community=job.community, rows=checked.rows)
    except PermissionDenied:
        message = _("You may no longer import into this community; nothing was written.")
        fail_job(job, [workbook.RowError(0, "", message)])
        return job.status
    except DatabaseError:
        logger.exception("import job %s failed while writing", job.pk)
        message = _(
            "The database refused the import (perhaps someone changed the same houses at "
            "the same time); nothing was written. Please upload the file again."
        )
        fail_job(job, [workbook.RowError(0, "", message)])
        return job.status
    finish_job(job, counts)
    return job.status


def import_file(*, actor, community: Community, fileobj) -> dict:
    """Check and write a workbook right away (benchmarks, tests, scripts).

    Raises ``workbook.FileError`` for an unreadable file and ``ImportInvalid``
    with every row error when any row is bad; then nothing is written.
    """
    check_actor(actor, community)
    checked = workbook.check_file(fileobj)
    if not checked.ok:
        raise ImportInvalid(checked.errors)
    return apply_rows(actor=actor, community=community, rows=checked.rows)


# --- the write -------------------------------------------------------------------
@transaction.atomic
def apply_rows(*, actor, community: Community, rows: list[workbook.Row]) -> dict:
    """Write checked rows into one community; returns created/updated counts."""
    check_actor(actor, community)
    # One import per community at a time (PostgreSQL row lock; SQLite's write lock
    # is already exclusive).
    Community.objects.select_for_update().values_list("pk", flat=True).get(pk=community.pk)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    now = _now()
    buildings = _buildings(community, rows, counts)
    units = _units(buildings, rows, counts)
    houses = _houses(community, rows, buildings, units, counts, now)
    _people(community, rows, buildings, units, houses, counts, now)
    return counts


def _buildings(community, rows, counts) -> dict[str, int]:
    existing = dict(Building.objects.filter(community=community).values_list("name", "id"))
    floors: dict[str, list[int]] = {}
    for row in rows:
        if row.building not in existing:
            floors.setdefault(row.building, []).append(row.floor)
    new = [
        Building(
            community=community,
            name=name,
            floors_above=min(max(max(levels), 1), 200),
            floors_below=min(max(-min(levels), 0), 20),
        )
        for name, levels in floors.items()
    ]
    Building.objects.bulk_create(new, batch_size=BATCH)
    counts["buildings_created"] = len(new)
    existing.update((b.name, b.pk) for b in new)
    return existing


def _units(buildings, rows, counts) -> dict[tuple[int, str], int]:
    existing = {
        (building_id, name): pk
        for pk, building_id, name in Unit.objects.filter(
            building_id__in=list(buildings.values())
        ).values_list("id", "building_id", "name")
    }
    wanted = {(buildings[r.building], r.unit) for r in rows if r.unit}
    new = [
        Unit(building_id=building_id, name=name)
        for building_id, name in sorted(wanted - set(existing))
    ]
    Unit.objects.bulk_create(new, batch_size=BATCH)
    counts["units_created"] = len(new)
    existing.update(((u.building_id, u.name), u.pk) for u in new)
    return existing


def _house_key(row, buildings, units) -> tuple[int, int | None, str]:
    building_id = buildings[row.building]
    unit_id = units[(building_id, row.unit)] if row.unit else None
    return (building_id, unit_id, row.number)


def _houses(community, rows, buildings, units, counts, now) -> dict[tuple, int]:
    existing = {
        (h.building_id, h.unit_id, h.number): h
        for h in House.objects.filter(community=community).only(
            "id", "building_id", "unit_id", "number", *HOUSE_FIELDS
        )
    }
    new, changed, seen = [], [], set()
    for row in rows:
        key = _house_key(row, buildings, units)
        if key in seen:
            continue
        seen.add(key)
        house = existing.get(key)
        if house is None:
            new.append(
                House(
                    company_id=community.company_id,
                    community_id=community.id,
                    building_id=key[0],
                    unit_id=key[1],
                    number=row.number,
                    floor=row.floor,
                    built_area=row.built_area,
                    indoor_area=row.indoor_area,
                    kind=row.kind,
                    occupancy=row.occupancy,
                )
            )
            continue
        values = {
            "floor": row.floor,
            "built_area": row.built_area,
            "kind": row.kind,
            "occupancy": row.occupancy,
        }
        if row.indoor_area is not None:  # an empty optional cell keeps what is stored
            values["indoor_area"] = row.indoor_area
        if any(getattr(house, f) != v for f, v in values.items()):
            for field, value in values.items():
                setattr(house, field, value)
            house.updated_at = now
            changed.append(house)
    House.objects.bulk_create(new, batch_size=BATCH)
    House.objects.bulk_update(changed, [*HOUSE_FIELDS, "updated_at"], batch_size=BATCH // 2)
    counts["houses_created"], counts["houses_updated"] = len(new), len(changed)
    ids = {key: house.pk for key, house in existing.items()}
    ids.update(((h.building_id, h.unit_id, h.number), h.pk) for h in new)
    return ids


def _people(community, rows, buildings, units, houses, counts, now) -> None:
    company_id = community.company_id
    person_rows = [r for r in rows if r.has_person]
    by_mobile = _residents_by_mobile(company_id, person_rows, counts, now)
    house_of = {id(r): houses[_house_key(r, buildings, units)] for r in person_rows}
    open_ties = {
        (t.resident_id, t.house_id): t
        for t in _chunked_filter(
            Residency.objects.filter(move_out__isnull=True).only(
                "id", "resident_id", "house_id", "relation", "move_in"
            ),
            "house_id__in",
            set(house_of.values()),
        )
    }
    nameless = _residents_without_mobile(company_id, person_rows, house_of, open_ties, counts)
    today = timezone.localdate()
    new, changed = [], []
    for row in person_rows:
        house_id = house_of[id(row)]
        resident_id = by_mobile[row.mobile] if row.mobile else nameless[(house_id, row.name)]
        tie = open_ties.get((resident_id, house_id))
        if tie is None:
            tie = Residency(
                resident_id=resident_id,
                house_id=house_id,
                relation=row.relation,
                move_in=row.move_in or today,
            )
            open_ties[(resident_id, house_id)] = tie
            new.append(tie)
            continue
        if tie.relation != row.relation or (row.move_in and tie.move_in != row.move_in):
            tie.relation = row.relation
            tie.move_in = row.move_in or tie.move_in
            changed.append(tie)
    Residency.objects.bulk_create(new, batch_size=BATCH)
    Residency.objects.bulk_update(changed, ["relation", "move_in"], batch_size=BATCH // 2)
    counts["residencies_created"], counts["residencies_updated"] = len(new), len(changed)


def _residents_by_mobile(company_id, person_rows, counts, now) -> dict[str, int]:
    """Create or update the residents named by a mobile; id by mobile."""
    wanted: dict[str, tuple[str, str]] = {}
    for row in person_rows:
        if not row.mobile:
            continue
        name, id_number = wanted.get(row.mobile, (row.name, ""))
        wanted[row.mobile] = (name, id_number or row.id_number)
    existing = {
        r.mobile: r
        for r in _chunked_filter(
            Resident.objects.filter(company_id=company_id).only(
                "id", "mobile", "name", "id_number", "user_id"
            ),
            "mobile__in",
            wanted,
        )
    }
    logins = get_or_create_mobile_users(names_by_mobile={m: v[0] for m, v in wanted.items()})
    new, changed = [], []
    for mobile, (name, id_number) in wanted.items():
        resident = existing.get(mobile)
        if resident is None:
            new.append(
                Resident(
                    company_id=company_id,
                    name=name,
                    mobile=mobile,
                    id_number=id_number,
                    user_id=logins.get(mobile),
                )
            )
            continue
        dirty = resident.name != name or (id_number and resident.id_number != id_number)
        if dirty:
            counts["residents_updated"] += 1
        if dirty or (resident.user_id is None and mobile in logins):
            resident.name = name
            resident.id_number = id_number or resident.id_number
            resident.user_id = resident.user_id or logins.get(mobile)
            resident.updated_at = now
            changed.append(resident)
    Resident.objects.bulk_create(new, batch_size=BATCH)
    Resident.objects.bulk_update(
        changed, ["name", "id_number", "user_id", "updated_at"], batch_size=BATCH // 2
    )
    counts["residents_created"] += len(new)
    ids = {mobile: r.pk for mobile, r in existing.items()}
    ids.update((r.mobile, r.pk) for r in new)
    return ids


def _residents_without_mobile(company_id, person_rows, house_of, open_ties, counts) -> dict:
    """People without a mobile (children, elderly relatives) are known by name within
    the house: the one living there under that name, or a new resident."""
    wanted = {(house_of[id(r)], r.name): r for r in person_rows if not r.mobile}
    if not wanted:
        return {}
    house_ids = {house_id for house_id, _name in wanted}
    candidates = {
        (t.house_id, t.resident.name): t.resident_id
        for t in _chunked_filter(
            Residency.objects.filter(move_out__isnull=True, resident__mobile="").select_related(
                "resident"
            ),
            "house_id__in",
            house_ids,
        )
    }
    found, new = {}, {}
    for key, row in wanted.items():
        if key in candidates:
            found[key] = candidates[key]
        else:
            new[key] = Resident(company_id=company_id, name=row.name, id_number=row.id_number)
    Resident.objects.bulk_create(list(new.values()), batch_size=BATCH)
    counts["residents_created"] += len(new)
    found.update((key, r.pk) for key, r in new.items())
    return found


def _chunked_filter(queryset, lookup: str, values: Iterable) -> Iterable:
    values = sorted(values)
    for start in range(0, len(values), IN_CHUNK):
        yield from queryset.filter(**{lookup: values[start : start + IN_CHUNK]})


def _now():
    return timezone.now()
