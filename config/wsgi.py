import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load the URLs, every view and the API now rather than on a worker's first request (which took
# about a second longer than the rest), then move everything loaded so far out of the cyclic garbage
# collector's sight: it is never freed, and the full collections no longer walk it (~4% of a list
# page's time).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
