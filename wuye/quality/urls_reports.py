from django.urls import path

from wuye.quality import views_reports as views

app_name = "quality_reports"

urlpatterns = [
    path("", views.monthly, name="monthly"),
    path("generate/", views.generate, name="generate"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/xlsx/", views.xlsx, name="xlsx"),
    path("excel/repairs/", views.repairs, name="repairs"),
    path("excel/charges/", views.charges, name="charges"),
]
