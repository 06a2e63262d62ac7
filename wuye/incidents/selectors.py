"""Reading emergencies: the list in its order (active first, newest first) and one
incident with its timeline."""

from django.db.models import Case, IntegerField, Value, When

from wuye.incidents.models import ACTIVE_STATUSES, Incident, IncidentEvent


def incidents():
    return Incident.objects.select_related("community", "asset", "reported_by")


def active_first(queryset):
    """Annotate ``active`` (1 or 0) and order active incidents first, newest first."""
    return queryset.annotate(
        active=Case(
            When(status__in=ACTIVE_STATUSES, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-active", "-id")


def timeline(incident: Incident):
    return IncidentEvent.objects.filter(incident=incident).select_related("actor")
