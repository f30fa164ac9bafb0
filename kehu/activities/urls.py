from django.urls import path

from kehu.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="activity-list"),
    path("week/", views.activity_week, name="week"),
    path("tasks/", views.task_list, name="task-list"),
    path("plan/<int:customer_pk>/", views.visit_plan, name="visit-plan"),
    path("email/<int:customer_pk>/", views.email_send, name="email-send"),
    path("<int:pk>/visit/", views.visit_log, name="visit-log"),
    path("<int:pk>/check-in/", views.visit_check_in, name="visit-check-in"),
    path("<int:pk>/", views.visit_detail, name="visit-detail"),
    path("check-ins/", views.check_in_review, name="check-in-review"),
    path("calendar/", views.calendar_settings, name="calendar-settings"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("<int:pk>/done/", views.commitment_done, name="commitment-done"),
    path("<int:pk>/undone/", views.commitment_undone, name="commitment-undone"),
    path("<int:pk>/delete/", views.activity_delete, name="activity-delete"),
]
