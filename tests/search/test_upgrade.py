"""A database that held services before it had a search index gets one when migrated."""

from __future__ import annotations

from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal

from osom.search.apps import _fill_an_empty_index
from osom.search.models import SearchDocument
from osom.search.queries import search


def test_migrating_a_database_with_services_and_no_index_builds_the_index(cast):
    SearchDocument.objects.all().delete()  # as in a database made before search existed
    assert not search("parking").exists()
    _fill_an_empty_index(sender=apps.get_app_config("search"))
    assert [d.title for d in search("parking") if d.kind == "service"] == ["Parking permits"]
    assert SearchDocument.objects.filter(kind="service").count() == 2


def test_an_index_already_built_is_left_as_it_is(cast):
    kept = set(SearchDocument.objects.values_list("pk", flat=True))
    assert kept
    _fill_an_empty_index(sender=apps.get_app_config("search"))
    assert set(SearchDocument.objects.values_list("pk", flat=True)) == kept


def test_the_index_is_filled_when_migrate_finishes(cast):
    SearchDocument.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert [d.title for d in search("identity") if d.kind == "service"] == ["Identity"]
