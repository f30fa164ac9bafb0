from django.urls import path

from kehu.receivables import views

app_name = "receivables"

urlpatterns = [
    path("plans/", views.plan_list, name="list"),
    path("plans/new/", views.plans_new, name="plans-new"),
    path("plans/<int:pk>/", views.plan_detail, name="detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/void/", views.plan_void, name="plan-void"),
    path("payments/", views.payment_list, name="payment-list"),
    path("payments/new/", views.payment_new, name="payment-new"),
    path("payments/preview/", views.payment_preview, name="payment-preview"),
    path("payments/customers/", views.customer_search, name="customer-search"),
    path("payments/<int:pk>/", views.payment_detail, name="payment-detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment-allocate"),
    path("payments/<int:pk>/deallocate/", views.payment_deallocate, name="payment-deallocate"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment-reverse"),
    path("customers/<int:pk>/panel/", views.customer_panel, name="customer-panel"),
]
