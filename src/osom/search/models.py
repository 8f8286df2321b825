"""The search index: one row per thing that can be found, kept up to date by ``index``."""

from __future__ import annotations

from django.db import models

__all__ = ["SearchDocument", "Kind", "KIND_ORDER"]


class Kind(models.TextChoices):
    SERVICE = "service", "Service"
    NEED = "need", "User need"
    GUIDANCE = "guidance", "Guidance"
    COE = "coe", "Correction of Error"


# The order kinds are listed in when titles match equally well
KIND_ORDER = {Kind.SERVICE: 0, Kind.NEED: 1, Kind.GUIDANCE: 2, Kind.COE: 3}


class SearchDocument(models.Model):
    """One searchable thing: a service, a need of a current contract, published guidance
    or a published Correction of Error.

    ``title_terms`` and ``body_terms`` hold the folded words (see ``search.text``) that
    the database's full-text index is built from: an FTS5 table on SQLite and a
    ``search_vector`` column with a GIN index on PostgreSQL, both made by the migration
    and neither known to Django. ``title`` and ``excerpt`` are for showing.
    """

    kind = models.CharField(max_length=10, choices=Kind.choices)
    kind_order = models.PositiveSmallIntegerField()
    object_id = models.BigIntegerField()
    service = models.ForeignKey("network.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200, help_text="What the object's address is made from: a slug or an id")
    title = models.TextField()
    excerpt = models.CharField(max_length=300, blank=True)
    title_terms = models.TextField()
    body_terms = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="one_document_per_object")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"
