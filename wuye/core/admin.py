from django.contrib import admin

from wuye.core.models import IdempotencyKey, PeriodicTick


class ReadOnlyAdmin(admin.ModelAdmin):
    """Bookkeeping rows written by the system: visible for diagnosis, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PeriodicTick)
class PeriodicTickAdmin(ReadOnlyAdmin):
    list_display = ("job", "tick", "enqueued_at", "task_id")
    list_filter = ("job",)
    search_fields = ("job", "task_id")
    show_full_result_count = False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "response_status", "created_at")
    list_select_related = ("user",)
    search_fields = ("key", "user__username")
    raw_id_fields = ("user",)
    show_full_result_count = False
