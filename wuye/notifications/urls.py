from django.urls import path

from wuye.notifications import views, views_channels

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", views_channels.preferences_page, name="preferences"),
    path("deliveries/", views_channels.delivery_log, name="delivery_log"),
    path("deliveries/<int:pk>/retry/", views_channels.delivery_retry, name="delivery_retry"),
    path("templates/", views_channels.template_list, name="template_list"),
    path("templates/new/", views_channels.template_create, name="template_create"),
    path("templates/<int:pk>/", views_channels.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", views_channels.template_delete, name="template_delete"),
]
