from django.urls import path

from kehu.invoices import views

app_name = "invoices"
urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("new/", views.invoice_create, name="new"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="edit"),
    path("<int:pk>/submit/", views.invoice_submit, name="submit"),
    path("<int:pk>/withdraw/", views.invoice_withdraw, name="withdraw"),
    path("<int:pk>/cancel/", views.invoice_cancel, name="cancel"),
    path("<int:pk>/issue/", views.invoice_issue, name="issue"),
    path("<int:pk>/reverse/", views.invoice_reverse, name="reverse"),
    path("<int:pk>/logistics/", views.invoice_logistics, name="logistics"),
    path("for-order/<int:pk>/", views.invoices_for_order, name="for-order"),
    path("titles/<int:pk>/", views.titles, name="titles"),
    path("titles/<int:pk>/<int:title_pk>/", views.title_edit, name="title-edit"),
    path("titles/<int:pk>/<int:title_pk>/default/", views.title_default, name="title-default"),
    path("titles/<int:pk>/<int:title_pk>/delete/", views.title_delete, name="title-delete"),
]
