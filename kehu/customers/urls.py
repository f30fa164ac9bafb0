from django.urls import path

from kehu.customers import map_views, team_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer-list"),
    path("new/", views.customer_create, name="customer-create"),
    path("<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("<int:pk>/delete/", views.customer_delete, name="customer-delete"),
    path("<int:pk>/merge/", views.customer_merge_view, name="customer-merge"),
    path("<int:pk>/restore/", views.customer_restore, name="customer-restore"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact-create"),
    path("<int:pk>/contacts/merge/", views.contact_merge_view, name="contact-merge"),
    path("<int:pk>/facts/new/", views.fact_create, name="fact-create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("contacts/<int:pk>/move/", views.contact_move, name="contact-move"),
    path("contacts/<int:pk>/restore/", views.contact_restore, name="contact-restore"),
    # The account team on the 360° page (KAM-1)
    path("<int:pk>/team/", team_views.team_panel_view, name="team-panel"),
    path("<int:pk>/team/add/", team_views.team_member_add, name="team-member-add"),
    path("<int:pk>/team/<int:user_id>/edit/", team_views.team_member_edit, name="team-member-edit"),
    path("<int:pk>/team/<int:user_id>/remove/", team_views.team_member_remove, name="team-member-remove"),
    path("recycle-bin/", views.recycle_bin, name="recycle-bin"),
    # The customer map (CUS-8)
    path("map/", map_views.customer_map, name="customer-map"),
    path("map/points/", map_views.customer_map_points, name="customer-map-points"),
    path("map/missing/", map_views.customer_map_missing, name="customer-map-missing"),
]
