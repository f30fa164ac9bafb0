from django.urls import path

from kehu.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_create, name="new"),
    path("recycle-bin/", views.recycle_bin, name="recycle-bin"),
    path("sell-through/", views.sell_through_list, name="sell-through"),
    path("sell-through/new/", views.sell_through_create, name="sell-through-new"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/edit/", views.order_edit, name="edit"),
    path("<int:pk>/transition/", views.order_transition, name="transition"),
    path("<int:pk>/delete/", views.order_delete, name="delete"),
    path("<int:pk>/restore/", views.order_restore, name="restore"),
    path("<int:pk>/deliveries/new/", views.delivery_create, name="delivery-new"),
    path("<int:pk>/lines/add/", views.line_add, name="line-add"),
    path("<int:pk>/lines/paste/", views.lines_paste, name="lines-paste"),
    path("<int:pk>/lines/<int:line_pk>/", views.line_update, name="line-update"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="line-remove"),
]
