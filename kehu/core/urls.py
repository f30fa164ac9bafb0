from django.urls import path

from kehu.core import views

urlpatterns = [path("healthz", views.healthz, name="healthz")]
