from django.urls import path

from wuye.estates import views

app_name = "estates"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("tree/communities/<int:pk>/", views.tree_community, name="tree_community"),
    path("tree/buildings/<int:pk>/", views.tree_building, name="tree_building"),
    path("tree/units/<int:pk>/", views.tree_unit, name="tree_unit"),
    path("communities/new/", views.community_create, name="community_create"),
    path("communities/<int:pk>/", views.community_detail, name="community_detail"),
    path("communities/<int:pk>/buildings/new/", views.building_create, name="building_create"),
    path("buildings/<int:pk>/", views.building_detail, name="building_detail"),
    path("buildings/<int:pk>/units/new/", views.unit_create, name="unit_create"),
    path("houses/", views.house_list, name="house_list"),
    path("houses/new/", views.house_create, name="house_create"),
    path("houses/<int:pk>/", views.house_detail, name="house_detail"),
    path("houses/<int:pk>/edit/", views.house_edit, name="house_edit"),
    path("common-areas/", views.commonarea_list, name="commonarea_list"),
    path("common-areas/new/", views.commonarea_create, name="commonarea_create"),
]
