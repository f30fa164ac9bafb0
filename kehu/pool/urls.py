from django.urls import path

from kehu.pool import views

app_name = "pool"
urlpatterns = [
    path("", views.pool_list, name="pool-list"),
    path("customers/<int:pk>/claim/", views.customer_claim, name="customer-claim"),
    path("customers/<int:pk>/assign/", views.customer_assign, name="customer-assign"),
    path("customers/<int:pk>/release/", views.customer_release, name="customer-release"),
    path("customers/<int:pk>/exempt/", views.customer_exempt, name="customer-exempt"),
    path("settings/", views.pool_settings, name="pool-settings"),
    path("settings/new/", views.pool_edit, name="pool-create"),
    path("settings/<int:pk>/", views.pool_edit, name="pool-edit"),
    path("handover/", views.handover_create, name="handover-create"),
    path("handover/<int:pk>/", views.handover_detail, name="handover-detail"),
]
