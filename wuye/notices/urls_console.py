from django.urls import path

from wuye.notices import views_console as views

app_name = "notices"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("new/", views.notice_create, name="create"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("<int:pk>/edit/", views.notice_edit, name="edit"),
    path("<int:pk>/publish/", views.notice_publish, name="publish"),
    path("<int:pk>/withdraw/", views.notice_withdraw, name="withdraw"),
    path("<int:pk>/receipts.xlsx", views.receipts_export, name="receipts_export"),
    path("<int:pk>/files/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/images/", views.photo_upload, name="photo_upload"),
    path("<int:pk>/images/<int:photo_id>/", views.notice_image, name="image"),
    path("<int:pk>/images/<int:photo_id>/delete/", views.photo_delete, name="photo_delete"),
    path("files/<int:pk>/", views.attachment_download, name="attachment"),
    path("files/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
]
