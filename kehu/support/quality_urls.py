"""Pages of service quality (SRV-5) under /service/quality/ and of service economics (SRV-6)."""

from django.urls import path

from kehu.support import economics_views
from kehu.support import quality_views as views

urlpatterns = [
    path("quality/", views.quality_home, name="quality"),
    path("quality/inspections/", views.inspection_list, name="inspection-list"),
    path("quality/inspections/new/", views.inspection_new, name="inspection-new"),
    path("quality/actions/", views.action_list, name="action-list"),
    path("quality/actions/new/", views.action_new, name="action-new"),
    path("quality/actions/<int:pk>/move/", views.action_move, name="action-move"),
    path("quality/reports/", views.report_list, name="quality-report-list"),
    path("quality/reports/<int:pk>/", views.report_detail, name="quality-report-detail"),
    path("quality/settings/", views.quality_settings, name="quality-settings"),
    path("economics/", economics_views.economics_page, name="economics"),
]
