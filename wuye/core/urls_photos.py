from django.urls import path

from wuye.core import photo_views

app_name = "photos"

urlpatterns = [
    path("<int:pk>/", photo_views.photo_file, name="file"),
    path("<int:pk>/thumb/", photo_views.photo_thumbnail, name="thumbnail"),
]
