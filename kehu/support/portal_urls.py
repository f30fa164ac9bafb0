"""The customer self-service page under /help/: no login (marked `login_not_required`; a follow
link's token is the key to its ticket)."""

from django.urls import path

from kehu.support import portal_views as views

app_name = "portal"
urlpatterns = [
    path("", views.help_home, name="home"),
    path("articles/<int:pk>/", views.help_article, name="article"),
    path("articles/<int:pk>/feedback/", views.help_feedback, name="feedback"),
    path("articles/<int:pk>/solved/", views.help_deflect, name="deflect"),
    path("articles/<int:pk>/files/<int:attachment_pk>/", views.help_attachment, name="attachment"),
    path("request/", views.help_request, name="request"),
    path("request/suggest/", views.help_suggest, name="suggest"),
    path("request/sent/", views.help_request_sent, name="request-sent"),
    path("t/<str:token>/", views.follow, name="follow"),
    path("t/<str:token>/message/", views.follow_message, name="follow-message"),
    path("t/<str:token>/confirm/", views.follow_confirm, name="follow-confirm"),
]
