from django.urls import path

from wuye.billing import views_console as views

app_name = "billing"

urlpatterns = [
    path("items/", views.fee_item_list, name="fee_item_list"),
    path("items/new/", views.fee_item_create, name="fee_item_create"),
    path("items/<int:pk>/", views.fee_item_detail, name="fee_item_detail"),
    path("items/<int:pk>/price/", views.fee_item_price, name="fee_item_price"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/issue/", views.run_issue, name="run_issue"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("", views.bill_list, name="bill_list"),
    path("export/", views.bill_export, name="bill_export"),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/adjustments/", views.adjustment_propose, name="adjustment_propose"),
    path(
        "bills/<int:pk>/adjustments/<int:adjustment_pk>/<str:decision>/",
        views.adjustment_decide,
        name="adjustment_decide",
    ),
    path("arrears/", views.arrears, name="arrears"),
    path("arrears/export/", views.arrears_export, name="arrears_export"),
    path("readings/", views.reading_list, name="reading_list"),
    path("readings/new/", views.reading_create, name="reading_create"),
    path("readings/<int:pk>/confirm/", views.reading_confirm, name="reading_confirm"),
]

# 收支公示 (income and expense reports): wuye.billing.views_disclosures
from wuye.billing import views_disclosures as disclosure_views  # noqa: E402

urlpatterns += [
    path("disclosures/", disclosure_views.disclosure_list, name="disclosure_list"),
    path("disclosures/new/", disclosure_views.disclosure_create, name="disclosure_create"),
    path("disclosures/<int:pk>/", disclosure_views.disclosure_detail, name="disclosure_detail"),
    path("disclosures/<int:pk>/edit/", disclosure_views.disclosure_edit, name="disclosure_edit"),
    path(
        "disclosures/<int:pk>/refresh/",
        disclosure_views.disclosure_refresh,
        name="disclosure_refresh",
    ),
    path(
        "disclosures/<int:pk>/expenses/",
        disclosure_views.disclosure_expense_add,
        name="disclosure_expense_add",
    ),
    path(
        "disclosures/<int:pk>/expenses/<int:line_pk>/",
        disclosure_views.disclosure_expense_edit,
        name="disclosure_expense_edit",
    ),
    path(
        "disclosures/<int:pk>/expenses/<int:line_pk>/remove/",
        disclosure_views.disclosure_expense_remove,
        name="disclosure_expense_remove",
    ),
    path(
        "disclosures/<int:pk>/publish/",
        disclosure_views.disclosure_publish,
        name="disclosure_publish",
    ),
    path(
        "disclosures/<int:pk>/withdraw/",
        disclosure_views.disclosure_withdraw,
        name="disclosure_withdraw",
    ),
    path(
        "disclosures/<int:pk>/export/",
        disclosure_views.disclosure_export,
        name="disclosure_export",
    ),
    path("disclosures/<int:pk>/pdf/", disclosure_views.disclosure_pdf, name="disclosure_pdf"),
]

# 催缴 (dunning): wuye.billing.views_dunning
from wuye.billing import views_dunning as dunning_views  # noqa: E402

urlpatterns += [
    path("dunning/", dunning_views.dunning_list, name="dunning"),
    path("dunning/export/", dunning_views.dunning_export, name="dunning_export"),
    path("dunning/send/", dunning_views.dunning_send, name="dunning_send"),
    path("dunning/batches/<slug:batch>/", dunning_views.dunning_batch, name="dunning_batch"),
    path(
        "dunning/batches/<slug:batch>/letters.pdf",
        dunning_views.dunning_letters,
        name="dunning_letters",
    ),
    path("dunning/houses/<int:pk>/", dunning_views.dunning_house, name="dunning_house"),
]

# Workbook imports (opening balances, meter readings): wuye.billing.views_imports
from wuye.billing import views_imports as import_views  # noqa: E402

urlpatterns += [
    path("opening/", import_views.opening_import, name="opening_import"),
    path("opening/template.xlsx", import_views.opening_template, name="opening_template"),
    path("readings/import/", import_views.reading_import, name="reading_import"),
    path(
        "readings/import/template.xlsx",
        import_views.reading_template,
        name="reading_template",
    ),
]

# 减免 (discount rules and waivers): wuye.billing.views_waivers
from wuye.billing import views_waivers as waiver_views  # noqa: E402

urlpatterns += [
    path("waivers/", waiver_views.waiver_list, name="waiver_list"),
    path("waivers/new/", waiver_views.waiver_propose, name="waiver_propose"),
    path("waivers/<int:pk>/decide/", waiver_views.waiver_decide, name="waiver_decide"),
    path("discount-rules/", waiver_views.rule_list, name="rule_list"),
    path("discount-rules/new/", waiver_views.rule_create, name="rule_create"),
    path("discount-rules/<int:pk>/", waiver_views.rule_edit, name="rule_edit"),
]
