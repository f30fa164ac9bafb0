from django.urls import path

from kehu.contracts import views

app_name = "contracts"
urlpatterns = [
    path("", views.contract_list, name="list"),
    path("new/", views.contract_create, name="new"),
    path("recycle-bin/", views.recycle_bin, name="recycle-bin"),
    path("settings/", views.contract_settings, name="settings"),
    path("settings/templates/new/", views.template_edit, name="template-new"),
    path("settings/templates/<int:pk>/", views.template_edit, name="template-edit"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_edit, name="edit"),
    path("<int:pk>/stage/", views.contract_transition, name="transition"),
    path("<int:pk>/delete/", views.contract_delete, name="delete"),
    path("<int:pk>/restore/", views.contract_restore, name="restore"),
    path("<int:pk>/lines/add/", views.line_add, name="line-add"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="line-remove"),
    path("<int:pk>/amendments/new/", views.amendment_create, name="amendment-new"),
    path("<int:pk>/amendments/<int:amendment_pk>/<str:action>/", views.amendment_act, name="amendment-act"),
    path("<int:pk>/attachments/add/", views.attachment_add, name="attachment-add"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/attachments/<int:attachment_pk>/remove/", views.attachment_remove, name="attachment-remove"),
    path("<int:pk>/document.pdf", views.document_pdf, name="document-pdf"),
    path("<int:pk>/document.docx", views.document_docx, name="document-docx"),
]
