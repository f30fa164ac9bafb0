from django.urls import include, path

from kehu.api.urls import api

urlpatterns = [
    path("", include("kehu.core.urls")),

    path("accounts/", include("kehu.users.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("activities/", include("kehu.activities.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]
