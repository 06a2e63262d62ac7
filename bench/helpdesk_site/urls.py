"""django-helpdesk at the root of the site, with its own login views (``/login/``)."""

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
