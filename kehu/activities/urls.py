from django.urls import path

from kehu.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="activity-list"),
    path("<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("<int:pk>/done/", views.commitment_done, name="commitment-done"),
    path("<int:pk>/delete/", views.activity_delete, name="activity-delete"),
]
