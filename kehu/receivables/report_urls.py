from django.urls import path

from kehu.receivables import report_views as views

app_name = "receivables_reports"
urlpatterns = [
    path("ageing/", views.ageing_report, name="ageing"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("statement/<int:pk>/", views.statement_page, name="statement"),
    path("customer/<int:pk>/", views.customer_money, name="customer-money"),
    path("ranking/", views.collection_ranking, name="ranking"),
    path("credit/settings/", views.credit_settings, name="credit-settings"),
]
