from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "osom.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import index

        index.connect()
        post_migrate.connect(_fill_an_empty_index, sender=self)


def _fill_an_empty_index(sender, using="default", **kwargs) -> None:
    """A database that had services before search existed (or whose index was lost) gets
    its index built when it is migrated; one that is being created has nothing to index."""
    from osom.network.models import Service

    from . import index
    from .models import SearchDocument

    if not SearchDocument.objects.using(using).exists() and Service.objects.using(using).exists():
        index.rebuild()
