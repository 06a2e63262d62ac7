from django.urls import path

from wuye.privacy import views_resident

app_name = "privacy_resident"

urlpatterns = [
    path("", views_resident.my_data, name="my_data"),
    path("download/", views_resident.download, name="download"),
    path("delete/", views_resident.request_deletion, name="request_deletion"),
]
