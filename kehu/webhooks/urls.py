from django.urls import path

from kehu.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscription_list, name="subscription-list"),
    path("<int:pk>/", views.subscription_edit, name="subscription-edit"),
    path("<int:pk>/rotate-secret/", views.subscription_rotate, name="subscription-rotate"),
    path("<int:pk>/delete/", views.subscription_delete, name="subscription-delete"),
    path("deliveries/", views.delivery_list, name="delivery-list"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
]
