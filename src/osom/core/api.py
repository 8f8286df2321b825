"""API routes for the organisation: people, terminology, audit events, tokens."""

from ninja import Router

router = Router(tags=["organisation"])
