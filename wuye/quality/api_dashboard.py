"""``/api/v1/quality`` (tag ``quality``) — the service-quality dashboard and index of the
caller's scope with the console's filters, and the company's quality settings.

Figures come from ``wuye.quality.dashboard`` (see its definitions); settings are
written by ``wuye.quality.services.update_quality_settings``."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import QueryDict
from ninja import Field, Query, Router, Schema

from wuye.core.apitools import WRITE_ERRORS, ErrorOut, actor
from wuye.core.replica import reads_from_replica
from wuye.core.services import require
from wuye.quality import dashboard, figures
from wuye.quality.forms_dashboard import DashboardFilterForm
from wuye.quality.services import SETTINGS_FIELDS, update_quality_settings

router = Router(tags=["quality"])


class DashboardFilters(Schema):
    date_from: datetime.date | None = Field(
        None, description="First day (default: the first of the month 11 months ago)."
    )
    date_to: datetime.date | None = Field(None, description="Last day (default: today).")
    community: int | None = Field(None, description="One of the caller's communities.")
    team: int | None = Field(None, description="A trade (工种) of the company.")
    person: str | None = Field(None, description="A staff member's employee number or name.")


class SettingsOut(Schema):
    weight_reliability: Decimal
    weight_responsiveness: Decimal
    weight_assurance: Decimal
    weight_empathy: Decimal
    weight_tangibles: Decimal
    iceberg_factor: int
    care_threshold: int
    stored: bool = Field(description="False: the company has not changed the defaults.")


class SettingsIn(Schema):
    weight_reliability: Decimal | None = None
    weight_responsiveness: Decimal | None = None
    weight_assurance: Decimal | None = None
    weight_empathy: Decimal | None = None
    weight_tangibles: Decimal | None = None
    iceberg_factor: int | None = None
    care_threshold: int | None = None


def _scope(request, filters: DashboardFilters):
    who = actor(request)
    require(who, "quality.view")
    data = QueryDict(mutable=True)
    for name, value in filters.model_dump().items():
        if value is not None:
            data[name] = str(value)
    form = DashboardFilterForm(data, actor=who)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form.scope()


@router.get(
    "/quality/dashboard",
    response={200: dict, **WRITE_ERRORS},
    summary="The service-quality dashboard (服务质量看板)",
    description="Every figure of the console's dashboard for the caller's scope: headline "
    "KPIs with the previous period and a `worse` flag, breakdowns by type, category and "
    "channel, the monthly trend, durations (median, p90 estimated from 10 bands, in "
    "minutes) and SLA per clock, backlog by age, satisfaction, complaints per 1,000 "
    "households, rounds, maintenance and the collection rate. quality.view.",
)
@reads_from_replica
def dashboard_figures(request, filters: Query[DashboardFilters]):
    return dashboard.as_data(dashboard.build(_scope(request, filters)))


@router.get(
    "/quality/index",
    response={200: dict, **WRITE_ERRORS},
    summary="The service quality index by dimension, with the SERVQUAL gap",
    description="Ratings and survey perception per dimension on 0–100, combined by their "
    "number of answers, the gap of gap surveys, and the index weighted with the "
    "company's weights. quality.view.",
)
@reads_from_replica
def index_figures(request, filters: Query[DashboardFilters]):
    return dashboard.as_data(dashboard.service_quality_index(_scope(request, filters)))


def _settings_out(settings) -> dict:
    return {
        **{name: getattr(settings, name) for name in SETTINGS_FIELDS},
        "stored": settings.pk is not None,
    }


@router.get(
    "/quality/settings",
    response={200: SettingsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="The company's quality settings (weights, iceberg factor, care threshold)",
    description="quality.view; the defaults when the company has not changed them.",
)
def settings_get(request):
    who = actor(request)
    require(who, "quality.view")
    return _settings_out(figures.settings_of(who.staff.company_id))


@router.put(
    "/quality/settings",
    response={200: SettingsOut, **WRITE_ERRORS},
    summary="Change the company's quality settings",
    description="Company-wide quality.manage. The five weights are percentages that "
    "must add up to 100; fields left out keep their value.",
)
def settings_update(request, payload: SettingsIn):
    fields = {k: v for k, v in payload.model_dump().items() if v is not None}
    return _settings_out(update_quality_settings(actor=actor(request), **fields))
