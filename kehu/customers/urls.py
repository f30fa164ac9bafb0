from django.urls import path

app_name = "customers"
urlpatterns = []
