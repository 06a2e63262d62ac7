"""Residents in the Django admin: ID numbers are shown masked in lists; houses and
residents are picked by id (there may be millions), never from a dropdown."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wuye.people.models import Residency, Resident


class ResidencyInline(admin.TabularInline):
    model = Residency
    extra = 0
    raw_id_fields = ("house",)
    fields = ("house", "relation", "move_in", "move_out")


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("name", "masked_mobile", "masked_id", "company", "created_at")
    list_select_related = ("company",)
    list_filter = ("company",)
    search_fields = ("name", "=mobile")
    raw_id_fields = ("user",)
    autocomplete_fields = ("company",)
    inlines = (ResidencyInline,)
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=_("mobile"))
    def masked_mobile(self, obj):
        return obj.masked_mobile

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.masked_id_number


@admin.register(Residency)
class ResidencyAdmin(admin.ModelAdmin):
    list_display = ("resident", "house", "relation", "move_in", "move_out")
    list_select_related = ("resident", "house__community", "house__building", "house__unit")
    list_filter = ("relation",)
    search_fields = ("resident__name", "=resident__mobile", "house__number")
    raw_id_fields = ("resident", "house")
    show_full_result_count = False
    list_per_page = 50
