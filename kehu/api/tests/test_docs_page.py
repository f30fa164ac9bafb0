"""The API's documentation page loads everything from Kehu itself (nothing from a CDN) and runs
under the site's content policy (no inline script)."""

import json
import re
from html.parser import HTMLParser


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.styles, self.settings = [], [], None
        self._in_settings = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "script":
            self._in_settings = attrs.get("type") == "application/json"
            assert self._in_settings, attrs  # data only: an inline script would be refused
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or ""):
            self.styles.append(attrs["href"])

    def handle_data(self, data):
        if self._in_settings and data.strip():
            self.settings = json.loads(data)
            self._in_settings = False


def test_the_api_documentation_is_served_from_our_own_files(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = _Assets()
    page.feed(response.content.decode())
    assert [re.sub(r"\.[0-9a-f]{12}\.", ".", s) for s in page.scripts] == [
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
    ]
    assert [re.sub(r"\.[0-9a-f]{12}\.", ".", s) for s in page.styles] == ["/static/ninja/swagger-ui.css"]
    assert page.settings["url"] == "/api/v1/openapi.json"
    assert "script-src 'self'" in response["Content-Security-Policy"]
