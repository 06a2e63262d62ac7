from django.contrib import admin

from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "company", "company_wide")
    list_select_related = ("company",)
    list_filter = ("company_wide", "company")
    search_fields = ("name", "code")
    autocomplete_fields = ("company",)


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "company")
    list_select_related = ("company",)
    list_filter = ("company",)
    search_fields = ("name", "code")
    autocomplete_fields = ("company",)


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "employee_no", "company", "mobile", "status", "is_active")
    list_select_related = ("company",)
    list_filter = ("status", "is_active", "company")
    search_fields = ("name", "employee_no", "=mobile", "user__username")
    raw_id_fields = ("user",)
    autocomplete_fields = ("company", "roles", "communities", "trades")


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ("name", "start_time", "end_time", "company")
    list_select_related = ("company",)
    list_filter = ("company",)
    search_fields = ("name",)
    autocomplete_fields = ("company",)


@admin.register(RosterEntry)
class RosterEntryAdmin(admin.ModelAdmin):
    list_display = ("date", "shift", "staff", "community")
    list_select_related = ("shift", "staff", "community")
    list_filter = ("shift__company",)
    date_hierarchy = "date"
    search_fields = ("staff__name", "staff__employee_no", "community__name")
    autocomplete_fields = ("staff", "shift", "community")
    show_full_result_count = False
