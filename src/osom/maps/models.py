"""Each service's Wardley map (model 5.4), kept as the map text its people wrote."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from osom.core.models import Person
from osom.network.models import Service

__all__ = ["MapVersion"]


class MapVersion(models.Model):
    """One saved version of a service's map text. Versions are never changed: saving makes
    a new one, so earlier maps stay readable. The highest number is the current map."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="map_versions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    note = models.CharField(max_length=300, blank=True, help_text="What changed")
    warnings = models.PositiveIntegerField(default=0, help_text="How many lines were not understood")
    saved_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "-number"]
        constraints = [models.UniqueConstraint(fields=["service", "number"], name="one_map_number_per_service")]

    def __str__(self) -> str:
        return f"{self.service} map v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A saved map version is never changed; save a new version instead.")
        super().save(*args, **kwargs)
