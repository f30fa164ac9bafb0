"""Pages of returns (SRV-3) under /service/returns/."""

from django.urls import path

from kehu.support import rma_views as views

urlpatterns = [
    path("returns/", views.rma_list, name="rma-list"),
    path("returns/new/", views.rma_create, name="rma-create"),
    path("returns/<int:pk>/", views.rma_detail, name="rma-detail"),
    path("returns/<int:pk>/move/", views.rma_move, name="rma-move"),
    path("returns/<int:pk>/costs/", views.rma_costs, name="rma-costs"),
    path("returns/stock-notes/", views.stock_note_list, name="stock-note-list"),
    path("returns/stock-notes/<int:pk>/pdf/", views.stock_note_pdf, name="stock-note-pdf"),
]
