"""The API's documentation page from the files Kehu serves itself.

django-ninja renders its Swagger page with scripts from a CDN unless it is an installed app, and it
is not one here (an installed app is imported at start: see "Memory of a web worker" in
docs/architecture.md); its templates and static files are listed in the settings instead.
"""

import json

from django.shortcuts import render
from ninja.openapi.docs import Swagger


class LocalSwagger(Swagger):
    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        # The API reads bearer tokens, never the session cookie: the page sends no CSRF token.
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api, "add_csrf": False}
        return render(request, self.template, context)
