"""API routes for the service network."""

from ninja import Router

router = Router(tags=["services"])
