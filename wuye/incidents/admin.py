from django.contrib import admin

from wuye.incidents.models import Incident, IncidentEvent


class EventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ("at", "kind", "actor", "from_status", "to_status", "note", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # the timeline is written by wuye.incidents.services


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "community", "severity", "status", "reported_at")
    list_select_related = ("community",)
    list_filter = ("status", "kind", "severity")
    search_fields = ("number", "description", "location")
    raw_id_fields = ("company", "community", "asset", "reported_by", "buildings")
    readonly_fields = ("status", "responded_at", "resolved_at", "closed_at")
    inlines = [EventInline]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of an emergency is kept
