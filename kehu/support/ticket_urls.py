"""Pages of tickets (SRV-1) under /service/tickets/."""

from django.urls import path

from kehu.support import views

urlpatterns: list = [
    path("tickets/", views.ticket_list, name="ticket-list"),
    path("tickets/new/", views.ticket_create, name="ticket-create"),
    path("tickets/customers/", views.customer_search, name="ticket-customers"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/transition/", views.ticket_transition, name="ticket-transition"),
    path("tickets/<int:pk>/respond/", views.ticket_respond, name="ticket-respond"),
    path("tickets/<int:pk>/assign/", views.ticket_assign, name="ticket-assign"),
]
