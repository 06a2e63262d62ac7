from django.urls import path

from wuye.notices import views_resident as views

app_name = "notices_resident"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("<int:pk>/images/<int:photo_id>/", views.notice_image, name="image"),
    path("files/<int:pk>/", views.attachment_download, name="attachment"),
]
