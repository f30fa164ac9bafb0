"""The service pages under /service/."""

from kehu.support import (
    complaint_urls,
    kb_urls,
    mail_urls,
    quality_urls,
    rma_urls,
    setup_urls,
    ticket_urls,
    visit_urls,
)

app_name = "support"
urlpatterns = [
    *ticket_urls.urlpatterns,
    *setup_urls.urlpatterns,
    *kb_urls.urlpatterns,
    *visit_urls.urlpatterns,
    *complaint_urls.urlpatterns,
    *rma_urls.urlpatterns,
    *quality_urls.urlpatterns,
    *mail_urls.urlpatterns,
]
