from django.urls import path

from kehu.quotes import insights_views

app_name = "quote_insights"

urlpatterns = [
    path("<int:pk>/insights/", insights_views.panel, name="panel"),
    path("lines/<int:pk>/history/", insights_views.line_history, name="line-history"),
]
