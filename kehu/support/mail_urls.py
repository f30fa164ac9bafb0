"""Pages of e-mail intake: the mailbox settings (/service/setup/mailbox/) and the received mail
(/service/mail/) with the to-match list."""

from django.urls import path

from kehu.support import mail_views as views

urlpatterns = [
    path("setup/mailbox/", views.mailbox_edit, name="mailbox"),
    path("mail/", views.inbound_list, name="mail-list"),
    path("mail/<int:pk>/", views.inbound_detail, name="mail-detail"),
    path("mail/<int:pk>/customers/", views.inbound_customers, name="mail-customers"),
    path("mail/<int:pk>/match/", views.inbound_match, name="mail-match"),
    path("mail/<int:pk>/dismiss/", views.inbound_dismiss, name="mail-dismiss"),
    path("mail/files/<int:pk>/", views.attachment_download, name="mail-file"),
]
