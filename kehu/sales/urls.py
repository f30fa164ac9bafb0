from django.urls import path

from kehu.sales import views

app_name = "sales"
urlpatterns = [
    path("", views.board, name="board"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/new/", views.opportunity_create, name="opportunity-create"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity-edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="opportunity-move"),
    path("opportunities/<int:pk>/delete/", views.opportunity_delete, name="opportunity-delete"),
    path("opportunities/<int:pk>/recommend/", views.opportunity_recommend, name="opportunity-recommend"),
    path("forecast/", views.forecast, name="forecast"),
    path("targets/", views.targets, name="targets"),
]
