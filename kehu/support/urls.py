"""The service pages under /service/."""

from kehu.support import mail_urls, setup_urls, ticket_urls

app_name = "support"
urlpatterns = [*ticket_urls.urlpatterns, *setup_urls.urlpatterns]
urlpatterns += mail_urls.urlpatterns
