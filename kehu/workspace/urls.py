from django.urls import path

from kehu.workspace import views

app_name = "workspace"
urlpatterns = [
    path("", views.home, name="home"),
    path("customers/<int:pk>/", views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/log/", views.activity_log, name="activity-log"),
]
