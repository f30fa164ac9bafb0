"""The service app in the REST API, under /api/v1/service."""

from ninja import Router

from kehu.support.api_field import router as field_router
from kehu.support.api_knowledge import router as knowledge_router
from kehu.support.api_mail import router as mail_router
from kehu.support.api_quality import router as quality_router
from kehu.support.api_returns import router as returns_router
from kehu.support.api_setup import router as setup_router
from kehu.support.api_tickets import router as tickets_router

router = Router(tags=["service"])
router.add_router("", tickets_router)
router.add_router("", setup_router)
router.add_router("", knowledge_router)
router.add_router("", field_router)
from kehu.support.api_complaints import router as complaints_router  # noqa: E402 (complaints)

router.add_router("", complaints_router)
router.add_router("", returns_router)
router.add_router("", quality_router)
router.add_router("", mail_router)
