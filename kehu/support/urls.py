"""The service pages under /service/."""

from kehu.support import setup_urls, ticket_urls

app_name = "support"
urlpatterns = [*ticket_urls.urlpatterns, *setup_urls.urlpatterns]
from kehu.support import complaint_urls  # noqa: E402 (complaints)

urlpatterns += complaint_urls.urlpatterns
