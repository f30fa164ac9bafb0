from django.urls import path

from kehu.core import views

app_name = "core"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("settings/", views.settings_home, name="settings"),
    path("settings/mail/", views.outbox_list, name="outbox"),
    path("settings/mail/<int:pk>/retry/", views.outbox_retry, name="outbox-retry"),
]
