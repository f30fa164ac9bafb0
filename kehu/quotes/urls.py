from django.urls import path

from kehu.quotes import views

app_name = "quotes"
urlpatterns = [
    path("", views.quote_list, name="quote-list"),
    path("new/", views.quote_create, name="quote-create"),
    path("<int:pk>/", views.quote_detail, name="quote-detail"),
    path("<int:pk>/edit/", views.quote_edit, name="quote-edit"),
    path("<int:pk>/submit/", views.quote_submit, name="quote-submit"),
    path("<int:pk>/withdraw/", views.quote_withdraw, name="quote-withdraw"),
    path("<int:pk>/send/", views.quote_send, name="quote-send"),
    path("<int:pk>/accept/", views.quote_accept, name="quote-accept"),
    path("<int:pk>/reject/", views.quote_reject, name="quote-reject"),
    path("<int:pk>/revise/", views.quote_revise, name="quote-revise"),
    path("<int:pk>/delete/", views.quote_delete, name="quote-delete"),
    path("<int:pk>/reprice/", views.quote_reprice, name="quote-reprice"),
    path("<int:pk>/lines/add/", views.line_add, name="line-add"),
    path("<int:pk>/lines/paste/", views.lines_paste, name="lines-paste"),
    path("<int:pk>/lines/import/", views.lines_import, name="lines-import"),
    path("<int:pk>/lines/<int:line_pk>/", views.line_update, name="line-update"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="line-remove"),
]
