"""The API's URL patterns as a module of their own: config/urls.py mounts it by name, so a web worker
imports the API (django-ninja, pydantic and every app's schemas: about 30 MiB) on its first /api/
request rather than with the pages."""

from kehu.api.urls import api

urlpatterns, app_name, _namespace = api.urls
