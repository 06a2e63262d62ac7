from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from wuye.api import api
from wuye.core.views import healthz
from wuye.web.views import home

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("wuye.accounts.urls")),
    path("console/estates/", include("wuye.estates.urls")),
    path("console/people/", include("wuye.people.urls")),
    path("console/staff/", include("wuye.staff.urls")),
    path("console/imports/", include("wuye.imports.urls")),
    path("notifications/", include("wuye.notifications.urls")),
    path("console/orders/", include("wuye.workorders.urls_console")),
    path("h5/orders/", include("wuye.workorders.urls_resident")),
    path("m/orders/", include("wuye.workorders.urls_field")),
    path("console/facilities/", include("wuye.facilities.urls_ledger")),
    path("console/rounds/", include("wuye.facilities.urls_rounds")),
    path("console/facility-reports/", include("wuye.facilities.urls_reports")),
    path("m/rounds/", include("wuye.facilities.urls_field")),
    path("m/meters/", include("wuye.billing.urls_field")),
    path("console/incidents/", include("wuye.incidents.urls")),
    path("console/billing/", include("wuye.billing.urls_console")),
    path("console/cashier/", include("wuye.billing.urls_cashier")),
    path("h5/bills/", include("wuye.billing.urls_resident")),
    path("billing/notify/", include("wuye.billing.urls_notify")),
    path("console/notices/", include("wuye.notices.urls_console")),
    path("h5/notices/", include("wuye.notices.urls_resident")),
    path("console/activities/", include("wuye.activities.urls_console")),
    path("h5/activities/", include("wuye.activities.urls_resident")),
    path("console/surveys/", include("wuye.surveys.urls_console")),
    path("h5/surveys/", include("wuye.surveys.urls_resident")),
    path("console/webhooks/", include("wuye.webhooks.urls")),
    path("console/quality/", include("wuye.quality.urls_dashboard")),
    path("console/quality/complaints/", include("wuye.quality.urls_complaints")),
    path("console/quality/care/", include("wuye.quality.urls_care")),
    path("console/quality/conduct/", include("wuye.quality.urls_conduct")),
    path("console/quality/training/", include("wuye.quality.urls_training")),
    path("console/quality/reports/", include("wuye.quality.urls_reports")),
    path("console/privacy/", include("wuye.privacy.urls_console")),
    path("h5/privacy/", include("wuye.privacy.urls_resident")),
    path("m/spot-checks/", include("wuye.quality.urls_conduct_field")),
    path("m/training/", include("wuye.quality.urls_training_field")),
    # What a printed QR label encodes: short, stable, one URL for staff and residents.
    path("q/", include("wuye.facilities.urls_qr")),
    # Photos are served one by one to those who may see them (wuye.core.photos), never
    # as public media: MEDIA_ROOT also holds uploaded import workbooks.
    path("photos/", include("wuye.core.urls_photos")),
    # Home redirect, console home, resident H5 (/h5/) and field-staff mobile pages (/m/).
    path("", home, name="home"),
    path("", include("wuye.web.urls")),
]
