from django.contrib import admin

from wuye.facilities.models import (
    Asset,
    AssetCategory,
    Certificate,
    ChecklistItem,
    ChecklistTemplate,
    Downtime,
    Vendor,
)


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "contact_name", "contract_no", "contract_end", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "contract_no")
    raw_id_fields = ("company",)


@admin.register(AssetCategory)
class AssetCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "code_prefix", "company", "sort_order")
    raw_id_fields = ("company",)


class CertificateInline(admin.TabularInline):
    model = Certificate
    extra = 0


class DowntimeInline(admin.TabularInline):
    model = Downtime
    fields = ("status", "started_at", "ended_at", "reason", "work_order")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # status changes go through the ledger (services.change_status)


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community", "category", "importance", "status")
    list_select_related = ("community", "category")
    list_filter = ("status", "importance", "category__code")
    search_fields = ("code", "name", "serial_no")
    raw_id_fields = ("company", "community", "building", "common_area", "vendor", "category")
    readonly_fields = ("status",)
    inlines = [CertificateInline, DowntimeInline]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False  # scrapped, never deleted


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    raw_id_fields = ("order_category",)


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "company", "is_active")
    list_filter = ("kind", "is_active")
    raw_id_fields = ("company", "asset_category")
    inlines = [ChecklistItemInline]
