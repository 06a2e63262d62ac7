from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from wuye.accounts.models import ApiToken, SmsCode, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "mobile", "first_name", "is_active", "is_staff", "last_login")
    search_fields = ("username", "mobile", "first_name", "last_name", "email")
    fieldsets = (
        *BaseUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("first_name", "last_name", "mobile", "email")}),
        *BaseUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "mobile", "password1", "password2")}),
    )
    show_full_result_count = False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owner (the secret is shown once); admins may revoke."""

    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("name", "key_prefix", "user__username", "user__mobile")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "key_prefix", "created_at", "last_used_at")
    fields = (
        "user",
        "name",
        "key_prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )

    def has_add_permission(self, request):
        return False


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    list_display = ("mobile", "purpose", "created_at", "expires_at", "attempts", "used_at")
    search_fields = ("mobile",)
    list_filter = ("purpose",)
    exclude = ("code_hash",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
