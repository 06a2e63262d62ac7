from django.contrib import admin

from wuye.notifications.models import Delivery, MessageTemplate, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "recipient", "created_at", "read_at")
    search_fields = ("=recipient__username", "=recipient__mobile", "title")
    raw_id_fields = ("recipient",)
    readonly_fields = ("created_at",)
    show_full_result_count = False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("kind", "channel", "language", "company")
    list_filter = ("channel", "language")
    search_fields = ("kind", "subject")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log, for looking only: retries go through the console's retry button
    (``notifications:delivery_retry``) so the claim rules hold."""

    list_display = ("notification", "channel", "address", "status", "attempts", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("=address",)
    raw_id_fields = ("notification",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
