"""Master data in the Django admin. Big tables (houses) use id fields and search,
never dropdowns, and skip the full COUNT(*) on filtered lists."""

from django.contrib import admin

from wuye.estates.models import Building, CommonArea, Community, Company, House, Unit


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "contact_phone", "created_at")
    search_fields = ("name", "code")


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "company", "kind", "city", "district", "service_phone")
    list_select_related = ("company",)
    list_filter = ("kind", "company")
    search_fields = ("name", "code", "address")
    autocomplete_fields = ("company",)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "floors_above", "floors_below", "sort_order")
    list_select_related = ("community",)
    list_filter = ("community__company",)
    search_fields = ("name", "community__name")
    autocomplete_fields = ("community",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "building", "sort_order")
    list_select_related = ("building__community",)
    search_fields = ("name", "building__name", "building__community__name")
    autocomplete_fields = ("building",)


@admin.register(House)
class HouseAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "community",
        "building",
        "unit",
        "floor",
        "built_area",
        "indoor_area",
        "kind",
        "occupancy",
    )
    list_select_related = ("community", "building", "unit")
    list_filter = ("kind", "occupancy", "company")
    search_fields = ("number", "community__name", "building__name")
    raw_id_fields = ("company", "community", "building", "unit")
    show_full_result_count = False
    list_per_page = 50


@admin.register(CommonArea)
class CommonAreaAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "community", "building")
    list_select_related = ("community", "building")
    list_filter = ("kind",)
    search_fields = ("name", "community__name")
    autocomplete_fields = ("community", "building")
