"""The service app in the REST API, under /api/v1/service."""

from ninja import Router

router = Router(tags=["service"])

from kehu.support.api_setup import router as setup_router  # noqa: E402

router.add_router("", setup_router)
