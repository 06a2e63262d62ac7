"""The ``data`` of each event the domains raise, built in one place so the payloads stay
small and stable (ids, numbers, statuses, amounts as strings, ISO 8601 timestamps).
``docs/webhooks.md`` documents them for integrators; a change here is a change to a
public contract.

Each function is called by the domain service inside its transaction; nothing is sent
unless that transaction commits (``wuye.webhooks.events.emit``).
"""

from wuye.webhooks import events


def _money(value) -> str:
    return f"{value:.2f}"


# --- work orders ---------------------------------------------------------------------------
def workorder_event(entry) -> None:
    """One timeline entry of a work order (``WorkOrderEvent``): ``workorder.created`` when
    it was submitted, ``workorder.status_changed`` when its status moved (the rating
    included), and ``workorder.rated`` for the resident's rating. Other entries (urges,
    comments, SLA warnings) are not sent."""
    order = entry.order
    base = {
        "id": order.pk,
        "number": order.number,
        "community_id": order.community_id,
        "house_id": order.house_id,
        "common_area_id": order.common_area_id,
        "request_type": order.request_type,
        "category_id": order.category_id,
        "urgency": order.urgency,
        "status": order.status,
    }
    if entry.type == "submitted":
        events.emit(
            company_id=order.company_id,
            event_type="workorder.created",
            data={**base, "channel": order.channel, "submitted_at": order.submitted_at},
        )
        return
    if entry.from_status and entry.from_status != entry.to_status:
        events.emit(
            company_id=order.company_id,
            event_type="workorder.status_changed",
            data={
                **base,
                "from_status": entry.from_status,
                "event": entry.type,
                "assignee_id": order.assignee_id,
                "at": entry.created_at,
            },
        )
    if entry.type == "rated":
        payload = entry.payload or {}
        events.emit(
            company_id=order.company_id,
            event_type="workorder.rated",
            data={
                **base,
                "overall": payload.get("overall"),
                "dimensions": {k: v for k, v in payload.items() if k != "overall"},
                "rated_at": entry.created_at,
            },
        )


# --- emergencies ---------------------------------------------------------------------------
def incident_reported(incident, building_ids) -> None:
    events.emit(
        company_id=incident.company_id,
        event_type="incident.reported",
        data={
            "id": incident.pk,
            "number": incident.number,
            "community_id": incident.community_id,
            "kind": incident.kind,
            "severity": incident.severity,
            "scope": incident.scope,
            "building_ids": sorted(building_ids),
            "asset_id": incident.asset_id,
            "status": incident.status,
            "reported_at": incident.reported_at,
        },
    )


# --- fees ----------------------------------------------------------------------------------
def payment_received(payment, allocations) -> None:
    """``allocations``: (bill id, amount) pairs; what is left went to the prepaid balance."""
    allocated = sum((amount for _bill, amount in allocations), 0)
    events.emit(
        company_id=payment.company_id,
        event_type="payment.received",
        data={
            "id": payment.pk,
            "receipt_no": payment.receipt_no,
            "community_id": payment.community_id,
            "house_id": payment.house_id,
            "amount": _money(payment.amount),
            "method": payment.method,
            "received_at": payment.received_at,
            "bills": [{"bill_id": bill, "amount": _money(amount)} for bill, amount in allocations],
            "to_prepaid": _money(payment.amount - allocated),
        },
    )


def bill_run_issued(run) -> None:
    events.emit(
        company_id=run.company_id,
        event_type="bill.issued",
        data={
            "run_id": run.pk,
            "community_id": run.community_id,
            "period_kind": run.period_kind,
            "period_start": run.period_start,
            "period_end": run.period_end,
            "bills": run.bills_created,
            "amount": _money(run.amount_issued),
            "issued_at": run.finished_at,
        },
    )


# --- engagement ----------------------------------------------------------------------------
def notice_published(notice) -> None:
    events.emit(
        company_id=notice.company_id,
        event_type="notice.published",
        data={
            "id": notice.pk,
            "community_id": notice.community_id,
            "kind": notice.kind,
            "title": notice.title,
            "audience": notice.audience,
            "is_emergency": notice.is_emergency,
            "published_at": notice.published_at,
            "expires_at": notice.expires_at,
            "event_starts_at": notice.event_starts_at,
            "event_ends_at": notice.event_ends_at,
        },
    )


def activity_cancelled(activity, *, reason: str, households: int) -> None:
    events.emit(
        company_id=activity.company_id,
        event_type="activity.cancelled",
        data={
            "activity_id": activity.pk,
            "community_id": activity.community_id,
            "title": activity.title,
            "starts_at": activity.starts_at,
            "reason": reason,
            "households": households,
        },
    )


def activity_signed_up(activity, signup) -> None:
    events.emit(
        company_id=activity.company_id,
        event_type="activity.signed_up",
        data={
            "activity_id": activity.pk,
            "signup_id": signup.pk,
            "house_id": signup.house_id,
            "party_size": signup.party_size,
            "status": signup.status,
            "places_left": activity.places_left,
        },
    )


def survey_changed(survey, event_type: str) -> None:
    """``survey.opened`` or ``survey.closed``: a survey or an owner vote with its figures
    (a closed vote carries its result fingerprint)."""
    events.emit(
        company_id=survey.company_id,
        event_type=event_type,
        data={
            "id": survey.pk,
            "kind": survey.kind,
            "title": survey.title,
            "community_id": survey.community_id,
            "status": survey.status,
            "closes_at": survey.closes_at,
            "eligible": survey.eligible_households,
            "eligible_area": survey.eligible_area,
            "responses": survey.responses_count,
            "result_digest": survey.result_digest,
        },
    )
