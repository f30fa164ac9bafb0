from django.urls import path

from kehu.sales import settings_views, views

app_name = "sales"
urlpatterns = [
    path("", views.board, name="board"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/new/", views.opportunity_create, name="opportunity-create"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity-edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="opportunity-move"),
    path("opportunities/<int:pk>/delete/", views.opportunity_delete, name="opportunity-delete"),
    path("opportunities/<int:pk>/restore/", views.opportunity_restore, name="opportunity-restore"),
    path("recycle-bin/", views.recycle_bin, name="recycle-bin"),
    path("opportunities/<int:pk>/recommend/", views.opportunity_recommend, name="opportunity-recommend"),
    path("forecast/", views.forecast, name="forecast"),
    path("targets/", views.targets, name="targets"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target-delete"),
    path("pipelines/", settings_views.pipeline_settings, name="pipeline-settings"),
    path("pipelines/<int:pk>/", settings_views.pipeline_edit, name="pipeline-edit"),
    path("pipelines/<int:pk>/stages/", settings_views.stage_create, name="stage-create"),
    path("stages/<int:pk>/edit/", settings_views.stage_edit, name="stage-edit"),
    path("stages/<int:pk>/shift/", settings_views.stage_shift, name="stage-shift"),
    path("stages/<int:pk>/active/", settings_views.stage_activate, name="stage-activate"),
    path("stages/<int:pk>/delete/", settings_views.stage_delete, name="stage-delete"),
    path("stages/<int:pk>/move-deals/", settings_views.stage_move_deals, name="stage-move-deals"),
]
