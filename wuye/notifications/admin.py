from django.contrib import admin

from wuye.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "recipient", "created_at", "read_at")
    search_fields = ("=recipient__username", "=recipient__mobile", "title")
    raw_id_fields = ("recipient",)
    readonly_fields = ("created_at",)
    show_full_result_count = False
