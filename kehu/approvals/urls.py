from django.urls import path

from kehu.approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("count/", views.inbox_badge, name="count"),
    path("<int:pk>/", views.request_detail, name="request-detail"),
    path("<int:pk>/act/", views.request_act, name="request-act"),
    path("flows/", views.flow_list, name="flow-list"),
    path("flows/<str:code>/", views.flow_edit, name="flow-edit"),
    path("flows/<str:code>/active/", views.flow_active, name="flow-active"),
    path("delegations/", views.delegation_list, name="delegation-list"),
    path("delegations/<int:pk>/delete/", views.delegation_delete, name="delegation-delete"),
]
