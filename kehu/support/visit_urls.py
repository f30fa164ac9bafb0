"""Pages of dispatch and on-site visits under /service/."""

from django.urls import path

from kehu.support import visit_views as views

urlpatterns = [
    path("tickets/<int:pk>/dispatch/", views.dispatch_assign, name="ticket-dispatch"),
    path("visits/", views.visit_list, name="visit-list"),
    path("visits/parts/", views.part_options, name="visit-parts"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("visits/<int:pk>/check-in/", views.visit_check_in, name="visit-check-in"),
    path("visits/<int:pk>/submit/", views.visit_submit, name="visit-submit"),
    path("visits/<int:pk>/confirm-link/", views.confirm_link, name="visit-confirm-link"),
    path("visits/<int:pk>/signature/", views.visit_image, {"kind": "signature"}, name="visit-signature"),
    path("visits/<int:pk>/photos/<int:index>/", views.visit_image, {"kind": "photo"}, name="visit-photo"),
    path("confirm/<str:token>/", views.visit_confirm, name="visit-confirm"),
    path("engineers/", views.engineer_list, name="engineer-list"),
    path("engineers/<int:pk>/", views.engineer_edit, name="engineer-edit"),
]
