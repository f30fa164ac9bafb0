"""Pages of the service setup (/service/setup/) and of the installed base (/service/units/)."""

from django.urls import path

from kehu.support import setup_views as views

urlpatterns = [
    path("setup/", views.setup_home, name="setup"),
    path("setup/categories/add/", views.category_add, name="category-add"),
    path("setup/categories/<int:pk>/", views.category_edit, name="category-edit"),
    path("setup/policies/new/", views.policy_edit, name="policy-new"),
    path("setup/policies/<int:pk>/", views.policy_edit, name="policy-edit"),
    path("setup/policies/<int:pk>/delete/", views.policy_delete, name="policy-delete"),
    path("setup/hours/", views.hours_edit, name="hours"),
    path("units/", views.unit_list, name="unit-list"),
    path("units/new/", views.unit_new, name="unit-new"),
    path("units/spec-options/", views.spec_options, name="unit-spec-options"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
    path("units/from-order/<int:pk>/", views.units_from_order, name="units-from-order"),
]
