from django.urls import path

from wuye.facilities import views_ledger as views

app_name = "ledger"

urlpatterns = [
    path("assets/", views.asset_list, name="asset_list"),
    path("assets/export/", views.asset_export, name="asset_export"),
    path("assets/labels/", views.asset_labels, name="asset_labels"),
    path("assets/new/", views.asset_create, name="asset_create"),
    path("assets/<int:pk>/", views.asset_detail, name="asset_detail"),
    path("assets/<int:pk>/edit/", views.asset_edit, name="asset_edit"),
    path("assets/<int:pk>/status/", views.asset_status, name="asset_status"),
    path("assets/<int:pk>/certificates/", views.certificate_add, name="certificate_add"),
    path("assets/<int:pk>/label/", views.asset_label_pdf, name="asset_label"),
    path("assets/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("vendors/", views.vendor_list, name="vendor_list"),
    path("vendors/new/", views.vendor_create, name="vendor_create"),
    path("vendors/<int:pk>/", views.vendor_detail, name="vendor_detail"),
    path("vendors/<int:pk>/edit/", views.vendor_edit, name="vendor_edit"),
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/export/", views.certificate_export, name="certificate_export"),
]
