from django.urls import path

from kehu.quotes import document_views as views

app_name = "quote_documents"
urlpatterns = [
    path("quotes/<int:pk>/document/", views.document_preview, name="preview"),
    path("quotes/<int:pk>/document/pdf/", views.document_pdf_download, name="pdf"),
    path("quotes/<int:pk>/share-links/", views.share_links, name="share-links"),
    path("quotes/<int:pk>/share-links/<int:link_pk>/revoke/", views.share_link_revoke, name="share-link-revoke"),
    path("quotes/<int:pk>/email/", views.email_send, name="email"),
    path("quotes/document-templates/", views.templates, name="templates"),
    path("quotes/document-templates/preview/", views.template_preview, name="template-preview"),
    # The customer's page: no login (the token is the key).
    path("q/<str:token>/", views.shared, name="shared"),
    path("q/<str:token>/pdf/", views.shared_pdf, name="shared-pdf"),
]
