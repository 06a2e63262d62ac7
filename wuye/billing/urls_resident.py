from django.urls import path

from wuye.billing import views_resident as views

app_name = "billing_resident"

urlpatterns = [
    path("", views.bill_list, name="bill_list"),
    path("<int:pk>/", views.bill_detail, name="bill_detail"),
    path("receipts/<int:pk>/", views.receipt, name="receipt"),
    path("pay/", views.pay, name="pay"),
    path("pay/<slug:out_trade_no>/", views.cashier, name="cashier"),
    path("pay/<slug:out_trade_no>/pay/", views.cashier_pay, name="cashier_pay"),
    path("pay/<slug:out_trade_no>/cancel/", views.cashier_cancel, name="cashier_cancel"),
    path("pay/<slug:out_trade_no>/result/", views.result, name="result"),
]

# 收支公示: the published reports of the resident's communities.
from wuye.billing import views_disclosures as disclosure_views  # noqa: E402

urlpatterns += [
    path("disclosures/", disclosure_views.resident_list, name="disclosure_list"),
    path("disclosures/<int:pk>/", disclosure_views.resident_detail, name="disclosure_detail"),
    path("disclosures/<int:pk>/pdf/", disclosure_views.resident_pdf, name="disclosure_pdf"),
]

# An unpaid online order given up by the resident who started it (wuye.billing.orders).
urlpatterns += [
    path("pay/<slug:out_trade_no>/close/", views.order_cancel, name="order_cancel"),
]
