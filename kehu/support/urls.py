"""The service pages under /service/."""

from kehu.support import ticket_urls

app_name = "support"
urlpatterns = [*ticket_urls.urlpatterns]
