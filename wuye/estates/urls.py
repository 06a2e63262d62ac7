app_name = "estates"

urlpatterns: list = []
