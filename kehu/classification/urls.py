from django.urls import path

from kehu.classification import views

app_name = "classification"
urlpatterns = [
    path("", views.suggestion_list, name="suggestion-list"),
    path("suggestions/bulk/", views.suggestion_bulk, name="suggestion-bulk"),
    path("suggestions/<int:pk>/<str:action>/", views.suggestion_decide, name="suggestion-decide"),
    path("settings/", views.settings_edit, name="settings"),
    path("run/", views.suggestions_run, name="run"),
    path("customers/<int:pk>/<str:kind>/", views.customer_form, name="customer-form"),
    path("time/", views.time_report, name="time-report"),
]
