from django.urls import path

from kehu.dealerplans import views

app_name = "dealerplans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="new"),
    path("progress/", views.progress, name="progress"),
    path("bin/", views.plan_bin, name="bin"),
    path("records/<int:pk>/", views.sales_record, name="record"),
    path("records/<int:pk>/export/", views.sales_record_export, name="record-export"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/edit/", views.plan_edit, name="edit"),
    path("<int:pk>/lines/", views.line_put, name="line-put"),
    path("<int:pk>/lines/form/", views.line_form, name="line-form"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="line-remove"),
    path("<int:pk>/support/", views.support_add, name="support-add"),
    path("<int:pk>/support/<int:support_pk>/given/", views.support_given, name="support-given"),
    path("<int:pk>/support/<int:support_pk>/remove/", views.support_remove, name="support-remove"),
    path("<int:pk>/state/", views.plan_state, name="state"),
    path("<int:pk>/copy/", views.plan_copy, name="copy"),
    path("<int:pk>/delete/", views.plan_delete, name="delete"),
    path("<int:pk>/restore/", views.plan_restore, name="restore"),
    path("<int:pk>/visits/", views.visit_create, name="visit-create"),
]
