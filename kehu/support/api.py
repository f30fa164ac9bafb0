"""The service app in the REST API, under /api/v1/service."""

from ninja import Router

from kehu.support.api_mail import router as mail_router
from kehu.support.api_setup import router as setup_router
from kehu.support.api_tickets import router as tickets_router

router = Router(tags=["service"])
router.add_router("", tickets_router)
router.add_router("", setup_router)
router.add_router("", mail_router)
