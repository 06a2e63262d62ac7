from django.contrib import admin

from wuye.sla.models import (
    BusinessCalendar,
    CalendarDay,
    CommunityCalendar,
    SlaPolicy,
    WorkingPeriod,
)


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    extra = 0


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


class CommunityCalendarInline(admin.TabularInline):
    model = CommunityCalendar
    extra = 0
    autocomplete_fields = ("community",)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "is_default", "is_24x7", "timezone")
    list_select_related = ("company",)
    list_filter = ("is_default", "is_24x7", "company")
    search_fields = ("name",)
    autocomplete_fields = ("company",)
    inlines = (WorkingPeriodInline, CalendarDayInline, CommunityCalendarInline)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "company",
        "clock",
        "calendar",
        "response_minutes",
        "arrival_minutes",
        "resolution_minutes",
        "at_risk_percent",
    )
    list_select_related = ("company", "calendar")
    list_filter = ("clock", "company")
    search_fields = ("name", "code")
    autocomplete_fields = ("company", "calendar")
