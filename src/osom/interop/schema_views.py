"""The published JSON Schema of a contract file, for editors and CI checks to fetch."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from .contracts import SCHEMA_FILE

__all__ = ["contract_schema"]


@require_GET
def contract_schema(request):
    # the file beside the code, not one built per request: what is served is what is published
    return HttpResponse(SCHEMA_FILE.read_bytes(), content_type="application/schema+json")
