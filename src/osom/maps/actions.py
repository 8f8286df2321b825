"""The one write of a service's Wardley map: saving a new version of its text."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, InvalidInput
from osom.core.models import Person
from osom.core.policy import authorise
from osom.network.models import Service
from osom.network.stages import Lifecycle

from .models import MapVersion
from .text import parse

__all__ = ["save_service_map", "MAX_MAP_CHARACTERS"]

MAX_MAP_CHARACTERS = 200_000


@refuses_null_characters
def save_service_map(*, actor: Person, service: Service, text: str, note: str = "",
                     expected_number: int | None = None) -> MapVersion:
    """Save the service's map text as its new current version. Lines the parser does not
    understand are kept and counted, never refused: the text people wrote is the source.
    ``expected_number`` is the version the editor started from; if someone saved since,
    the save is refused rather than silently replacing their map."""
    service = Service.objects.get(pk=service.pk)
    authority = authorise(actor, "save_service_map", service=service)
    if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        raise Conflict(f"{service.name} is decommissioned; its map is kept as it was.", field="service")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("Write the map text: at least one component.", field="text")
    text = text.replace("\r\n", "\n")
    if len(text) > MAX_MAP_CHARACTERS:
        raise InvalidInput(f"A map is at most {MAX_MAP_CHARACTERS:,} characters.", field="text")
    note = (note or "").strip()
    if len(note) > 300:
        raise InvalidInput("Keep the note to 300 characters.", field="note")
    parsed = parse(text)
    with transaction.atomic():
        Service.objects.select_for_update(no_key=True).get(pk=service.pk)  # one save at a time per service
        latest = MapVersion.objects.filter(service=service).aggregate(n=Max("number"))["n"] or 0
        if expected_number is not None and int(expected_number) != latest:
            raise Conflict(
                f"Someone saved version {latest} of this map since you opened version {expected_number}. "
                "Copy your text, reload the map, and merge your change into theirs.",
                field="text", changes=[f"Now at version {latest}."])
        if latest and MapVersion.objects.get(service=service, number=latest).text == text:
            raise InvalidInput("The map text is the same as the current version; nothing to save.", field="text")
        version = MapVersion.objects.create(service=service, number=latest + 1, text=text, note=note,
                                            warnings=len(parsed.warnings), saved_by=actor)
        audit.record(actor, "save_service_map", version, authority=authority, service=service,
                     summary=f"Saved version {version.number} of {service.name}'s map"
                             + (f" ({len(parsed.warnings)} lines not understood)" if parsed.warnings else ""),
                     after={"number": version.number, "components": len(parsed.components), "note": note})
    return version
