from django.urls import path

from kehu.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="notification-list"),
    path("menu/", views.notification_menu, name="notification-menu"),
    path("<int:pk>/open/", views.notification_open, name="notification-open"),
    path("<int:pk>/read/", views.notification_read, name="notification-read"),
    path("read-all/", views.notification_read_all, name="notification-read-all"),
    path("preferences/", views.preferences, name="preferences"),
    path("robots/", views.robot_list, name="robot-list"),
    path("robots/<int:pk>/", views.robot_edit, name="robot-edit"),
    path("robots/<int:pk>/test/", views.robot_test, name="robot-test"),
    path("robots/<int:pk>/delete/", views.robot_delete, name="robot-delete"),
    path("robots/messages/<int:pk>/retry/", views.post_retry, name="post-retry"),
]
