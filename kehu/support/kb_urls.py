"""Staff pages of the knowledge base (SRV-4) and of the self-service requests, under /service/."""

from django.urls import path

from kehu.support import kb_views, portal_views

urlpatterns: list = [
    path("knowledge/", kb_views.kb_list, name="kb-list"),
    path("knowledge/new/", kb_views.kb_create, name="kb-create"),
    path("knowledge/suggest/", kb_views.kb_suggest, name="kb-suggest"),
    path("knowledge/<int:pk>/", kb_views.kb_detail, name="kb-detail"),
    path("knowledge/<int:pk>/edit/", kb_views.kb_edit, name="kb-edit"),
    path("knowledge/<int:pk>/state/", kb_views.kb_transition, name="kb-transition"),
    path("knowledge/<int:pk>/attachments/", kb_views.kb_attachment_add, name="kb-attachment-add"),
    path(
        "knowledge/<int:pk>/attachments/<int:attachment_pk>/",
        kb_views.kb_attachment_download,
        name="kb-attachment",
    ),
    path(
        "knowledge/<int:pk>/attachments/<int:attachment_pk>/remove/",
        kb_views.kb_attachment_remove,
        name="kb-attachment-remove",
    ),
    path("tickets/<int:pk>/send-article/", kb_views.kb_send, name="kb-send"),
    path("tickets/<int:pk>/follow-links/<int:link_pk>/revoke/", kb_views.follow_link_revoke, name="follow-revoke"),
    path("self-service-requests/", portal_views.request_list, name="portal-requests"),
    path("self-service-requests/<int:pk>/", portal_views.request_match, name="portal-request-match"),
]
