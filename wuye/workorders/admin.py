"""Configuration in the Django admin: request categories. Orders and their events
are shown read-mostly for support; nothing is ever hard-deleted, and status changes
go through the services (the console and the API), never through the admin."""

from django.contrib import admin

from wuye.workorders.models import Category, Complaint, WorkOrder, WorkOrderEvent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "parent",
        "company",
        "request_type",
        "dispatch_mode",
        "trade",
        "default_urgency",
        "is_paid",
        "return_visit",
        "is_active",
        "sort_order",
    )
    list_select_related = ("company", "parent", "trade")
    list_filter = (
        "company",
        "request_type",
        "dispatch_mode",
        "is_paid",
        "return_visit",
        "is_active",
    )
    search_fields = ("name", "code")
    raw_id_fields = ("company", "parent", "trade")

    def has_delete_permission(self, request, obj=None):
        return False  # categories are deactivated, never deleted (orders point at them)


class EventInline(admin.TabularInline):
    model = WorkOrderEvent
    fields = ("created_at", "type", "from_status", "to_status", "actor", "note", "is_public")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class ComplaintInline(admin.StackedInline):
    """A complaint's party and demand; the root cause is 客服主管's, recorded in the
    console or the API."""

    model = Complaint
    fields = ("party_kind", "party_staff", "party_name", "demand", "is_dispute", "root_cause")
    readonly_fields = ("root_cause",)
    raw_id_fields = ("party_staff",)
    can_delete = False
    extra = 0
    max_num = 1

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "community",
        "request_type",
        "category",
        "urgency",
        "status",
        "assignee",
        "submitted_at",
    )
    list_select_related = ("community", "category__parent", "assignee")
    list_filter = ("status", "request_type", "urgency", "channel", "sla_state")
    search_fields = ("number",)
    raw_id_fields = (
        "company",
        "community",
        "house",
        "common_area",
        "category",
        "reporter",
        "created_by",
        "assignee",
        "merged_into",
    )
    # The lifecycle belongs to the services: status, times and assignee are read-only here.
    readonly_fields = (
        "number",
        "status",
        "assignee",
        "submitted_at",
        "accepted_at",
        "dispatched_at",
        "taken_at",
        "arrived_at",
        "completed_at",
        "closed_at",
        "close_reason",
        "urge_count",
        "reopen_count",
        "merged_into",
    )
    inlines = [ComplaintInline, EventInline]
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # orders are recorded through intake, the H5 or the API

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is ever hard-deleted


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(admin.ModelAdmin):
    list_display = ("order", "type", "from_status", "to_status", "actor", "created_at")
    list_select_related = ("order", "actor")
    list_filter = ("type", "is_public")
    search_fields = ("order__number",)
    raw_id_fields = ("order", "actor")
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
