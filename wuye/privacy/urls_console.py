from django.urls import path

from wuye.privacy import views

app_name = "privacy"

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("deletions/", views.deletion_list, name="deletion_list"),
    path("deletions/<int:pk>/approve/", views.deletion_approve, name="deletion_approve"),
    path("deletions/<int:pk>/reject/", views.deletion_reject, name="deletion_reject"),
    path("retention/", views.retention, name="retention"),
]
