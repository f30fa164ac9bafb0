"""The service app in the REST API, under /api/v1/service."""

from ninja import Router

router = Router(tags=["service"])
