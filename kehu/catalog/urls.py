from django.urls import path

from kehu.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/export/", views.product_export, name="product-export"),
    path("products/<int:pk>/", views.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/image/", views.product_image, name="product-image"),
    path("products/<int:pk>/delete/", views.product_delete, name="product-delete"),
    path("products/<int:pk>/restore/", views.product_restore, name="product-restore"),
    path("products/<int:pk>/specifications/", views.specification_create, name="spec-create"),
    path("recycle-bin/", views.recycle_bin, name="recycle-bin"),
    path("specifications/<int:pk>/edit/", views.specification_edit, name="spec-edit"),
    path("specifications/<int:pk>/delete/", views.specification_delete, name="spec-delete"),
    path("spec-search/", views.spec_search, name="spec-search"),
    path("categories/", views.category_list, name="category-list"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category-edit"),
    path("categories/<int:pk>/delete/", views.category_delete, name="category-delete"),
    path("price-lists/", views.price_list_list, name="pricelist-list"),
    path("price-lists/new/", views.price_list_create, name="pricelist-create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="pricelist-detail"),
    path("price-lists/<int:pk>/edit/", views.price_list_edit, name="pricelist-edit"),
    path("price-lists/<int:pk>/delete/", views.price_list_delete, name="pricelist-delete"),
    path("price-lists/<int:pk>/items/", views.price_item_add, name="item-add"),
    path("price-items/<int:pk>/edit/", views.price_item_edit, name="item-edit"),
    path("price-items/<int:pk>/delete/", views.price_item_delete, name="item-delete"),
    path("settings/", views.pricing_settings, name="pricing-settings"),
    path("price-check/", views.price_check, name="price-check"),
]
