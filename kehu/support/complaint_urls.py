"""Pages of complaints (投诉, SRV-2) under /service/complaints/."""

from django.urls import path

from kehu.support import complaint_views as views

urlpatterns: list = [
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/new/", views.complaint_create, name="complaint-create"),
    path("complaints/customers/", views.complaint_customers, name="complaint-customers"),
    path("complaints/statistics/", views.complaint_statistics, name="complaint-statistics"),
    path("complaints/statistics/export/", views.complaint_statistics_export, name="complaint-statistics-export"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint-detail"),
    path("complaints/<int:pk>/edit/", views.complaint_edit, name="complaint-edit"),
    path("complaints/<int:pk>/step/", views.complaint_step, name="complaint-step"),
    path("complaints/<int:pk>/move/", views.complaint_move, name="complaint-move"),
    path("complaints/<int:pk>/plan/", views.complaint_plan, name="complaint-plan"),
    path("complaints/<int:pk>/notice.pdf", views.complaint_notice_pdf, name="complaint-notice-pdf"),
    path("complaints/<int:pk>/report.pdf", views.complaint_report_pdf, name="complaint-report-pdf"),
]
