from django.urls import path

from kehu.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.transfer_home, name="home"),
    path("imports/new/", views.import_upload, name="import-upload"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/layout/", views.import_layout, name="import-layout"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import-mapping"),
    path("imports/<int:pk>/values/", views.import_values, name="import-values"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/choose/", views.import_choose, name="import-choose"),
    path("imports/<int:pk>/run/", views.import_run, name="import-run"),
    path("imports/<int:pk>/retry/", views.import_retry, name="import-retry"),
    path("imports/<int:pk>/delete/", views.import_delete, name="import-delete"),
    path("export/customers/", views.export_customers, name="export-customers"),
    path("exports/<int:pk>/", views.export_detail, name="export-detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("contacts/<int:pk>/vcard/", views.contact_vcard, name="contact-vcard"),
    path("customers/<int:pk>/vcards/", views.customer_vcards, name="customer-vcards"),
]
