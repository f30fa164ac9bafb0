from django.urls import path

from kehu.collection import views

app_name = "collection"
urlpatterns = [
    path("", views.infoform_list, name="infoform-list"),
    path("new/", views.infoform_create, name="infoform-create"),
    path("<int:pk>/", views.infoform_detail, name="infoform-detail"),
    path("<int:pk>/edit/", views.infoform_edit, name="infoform-edit"),
    path("<int:pk>/file/", views.infoform_file, name="infoform-file"),
    path("<int:pk>/approve/", views.infoform_approve, name="infoform-approve"),
    path("<int:pk>/return/", views.infoform_return, name="infoform-return"),
    path("<int:pk>/archive/", views.infoform_archive, name="infoform-archive"),
    path("routes/", views.route_list, name="route-list"),
    path("routes/<int:pk>/delete/", views.route_delete, name="route-delete"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<int:pk>/delete/", views.calendar_delete, name="calendar-delete"),
]
