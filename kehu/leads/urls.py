from django.urls import path

from kehu.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="lead-list"),
    path("new/", views.lead_create, name="lead-create"),
    path("<int:pk>/", views.lead_detail, name="lead-detail"),
    path("<int:pk>/edit/", views.lead_edit, name="lead-edit"),
    path("<int:pk>/respond/", views.lead_respond, name="lead-respond"),
    path("<int:pk>/qualify/", views.lead_qualify, name="lead-qualify"),
    path("<int:pk>/disqualify/", views.lead_disqualify, name="lead-disqualify"),
    path("<int:pk>/assign/", views.lead_assign, name="lead-assign"),
    path("<int:pk>/convert/", views.lead_convert, name="lead-convert"),
    path("rules/", views.lead_rules, name="lead-rules"),
    path("inquiry/", views.inquiry, name="inquiry"),
    path("inquiry/thanks/", views.inquiry_thanks, name="inquiry-thanks"),
]
