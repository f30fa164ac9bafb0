"""The service pages under /service/."""

from kehu.support import quality_urls, rma_urls, setup_urls, ticket_urls

app_name = "support"
urlpatterns = [*ticket_urls.urlpatterns, *setup_urls.urlpatterns, *rma_urls.urlpatterns, *quality_urls.urlpatterns]
