"""The doctrine patterns; self-assessments and corrections of error build on them."""

from django.db import models

__all__ = ["DoctrinePattern"]


class DoctrinePattern(models.Model):
    """One of the forty patterns of the doctrine (model 9). The organisation may
    rewrite the meaning in its own words; the name and placement are the table's."""

    group = models.CharField(max_length=20)
    phase = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    meaning = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name
