"""Writes to the network that are part of a larger act of another app — establishing a
service for a proposal, opening a draft for the needs folded into it. They check no
right and record no audit event: the calling action does both, once, for the whole act."""

from __future__ import annotations

from .actions import _appoint as appoint
from .actions import _create_service as create_service
from .actions import _new_draft as new_draft

__all__ = ["create_service", "appoint", "new_draft"]
