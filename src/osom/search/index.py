"""Keeping the search index in step with what it indexes.

Each indexed model refreshes its own documents when it is saved or deleted (signals
connected by the app), inside the same transaction as the write, so a search never
finds a draft that was discarded nor misses a contract just approved. A bulk load that
writes rows without saving models (``osom generate``, a whole-organisation import)
calls :func:`rebuild` at its end.

What is public, and so indexed:

- a service: its name, slug and summary;
- the needs of its current contract (the approved version; drafts are not public);
- guidance while published (not drafts, not once withdrawn);
- a Correction of Error once published (and after its review).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from .models import KIND_ORDER, Kind, SearchDocument
from .text import terms

__all__ = ["connect", "rebuild", "refresh_service", "refresh_coe", "refresh_guidance"]

BATCH = 2000
# Saving a service with only these fields named cannot change what the index holds of it
_SERVICE_FIELDS = {"name", "slug", "summary", "current_version"}


def _excerpt(text: str, size: int = 200) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= size else flat[: size - 1].rsplit(" ", 1)[0] + "…"


def _document(kind: str, object_id: int, *, service_id: int | None, key: str, title: str, excerpt: str,
              title_text: Iterable[str], body_text: Iterable[str]) -> SearchDocument:
    return SearchDocument(
        kind=kind, kind_order=KIND_ORDER[kind], object_id=object_id, service_id=service_id, key=str(key),
        title=title, excerpt=_excerpt(excerpt), title_terms=terms(*title_text), body_terms=terms(*body_text),
    )


def _service_document(service) -> SearchDocument:
    return _document(Kind.SERVICE, service.pk, service_id=service.pk, key=service.slug, title=service.name,
                     excerpt=service.summary, title_text=[service.name], body_text=[service.slug, service.summary])


def _need_document(need, service_id: int, slug: str) -> SearchDocument:
    # the title is the need itself; who has it and why are found too, but rank lower
    return _document(Kind.NEED, need.pk, service_id=service_id, key=slug,
                     title=f"As a {need.as_a}, I need {need.i_need}", excerpt=f"So that {need.so_that}",
                     title_text=[need.i_need], body_text=[need.as_a, need.so_that])


def _coe_is_public(coe) -> bool:
    return coe.status != coe.Status.DRAFT


def _coe_document(coe) -> SearchDocument:
    return _document(Kind.COE, coe.pk, service_id=coe.service_id, key=coe.pk, title=coe.title, excerpt=coe.problem,
                     title_text=[coe.title],
                     body_text=[coe.problem, coe.impact, coe.root_cause, coe.root_cause_data, coe.trade_offs_that_led,
                                coe.trade_offs_to_avoid, coe.lessons])


def _guidance_is_public(guidance) -> bool:
    return guidance.status == guidance.Status.PUBLISHED


def _guidance_document(guidance) -> SearchDocument:
    return _document(Kind.GUIDANCE, guidance.pk, service_id=None, key=guidance.pk, title=guidance.title,
                     excerpt=guidance.body, title_text=[guidance.title], body_text=[guidance.body, guidance.source_detail])


# ---------------------------------------------------------------- one object at a time


def refresh_service(service) -> None:
    """Index ``service`` and the needs of its current contract afresh (three queries)."""
    from osom.network.models import Need

    SearchDocument.objects.filter(kind__in=[Kind.SERVICE, Kind.NEED], service_id=service.pk).delete()
    documents = [_service_document(service)]
    if service.current_version_id:
        documents += [_need_document(n, service.pk, service.slug)
                      for n in Need.objects.filter(version_id=service.current_version_id).order_by("pk")]
    SearchDocument.objects.bulk_create(documents)


def _refresh_one(kind: str, obj, public: bool, build) -> None:
    SearchDocument.objects.filter(kind=kind, object_id=obj.pk).delete()
    if public:
        SearchDocument.objects.bulk_create([build(obj)])


def refresh_coe(coe) -> None:
    """Index a Correction of Error if it is published, or take it out of the index."""
    _refresh_one(Kind.COE, coe, _coe_is_public(coe), _coe_document)


def refresh_guidance(guidance) -> None:
    """Index guidance while it is published, or take it out of the index."""
    _refresh_one(Kind.GUIDANCE, guidance, _guidance_is_public(guidance), _guidance_document)


def _on_service_saved(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and not _SERVICE_FIELDS & set(update_fields)):
        return
    refresh_service(instance)


def _on_coe_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        refresh_coe(instance)


def _on_guidance_saved(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        refresh_guidance(instance)


def _on_deleted(kind: str):
    def forget(sender, instance, **kwargs) -> None:
        SearchDocument.objects.filter(kind=kind, object_id=instance.pk).delete()

    return forget


_forget_coe = _on_deleted(Kind.COE)
_forget_guidance = _on_deleted(Kind.GUIDANCE)


def connect() -> None:
    """Refresh the index whenever an indexed model is saved or deleted (called once, by the app)."""
    from osom.governance.models import Guidance
    from osom.learning.models import CorrectionOfError
    from osom.network.models import Service

    post_save.connect(_on_service_saved, sender=Service, dispatch_uid="search-service-saved")
    post_save.connect(_on_coe_saved, sender=CorrectionOfError, dispatch_uid="search-coe-saved")
    post_delete.connect(_forget_coe, sender=CorrectionOfError, dispatch_uid="search-coe-deleted")
    post_save.connect(_on_guidance_saved, sender=Guidance, dispatch_uid="search-guidance-saved")
    post_delete.connect(_forget_guidance, sender=Guidance, dispatch_uid="search-guidance-deleted")
    # a deleted service takes its documents with it (the foreign key cascades)


# ---------------------------------------------------------------- everything at once


def _all_documents() -> Iterator[SearchDocument]:
    from django.db.models import F

    from osom.governance.models import Guidance
    from osom.learning.models import CorrectionOfError
    from osom.network.models import Need, Service

    for service in Service.objects.only("pk", "name", "slug", "summary").order_by("pk").iterator(chunk_size=BATCH):
        yield _service_document(service)
    needs = (Need.objects.filter(version__service__current_version=F("version"))
             .values_list("pk", "as_a", "i_need", "so_that", "version__service_id", "version__service__slug")
             .order_by("pk"))
    for pk, as_a, i_need, so_that, service_id, slug in needs.iterator(chunk_size=BATCH):
        yield _need_document(Need(pk=pk, as_a=as_a, i_need=i_need, so_that=so_that), service_id, slug)
    public_coes = CorrectionOfError.objects.exclude(status=CorrectionOfError.Status.DRAFT).order_by("pk")
    for coe in public_coes.iterator(chunk_size=BATCH):
        yield _coe_document(coe)
    for guidance in Guidance.objects.filter(status=Guidance.Status.PUBLISHED).order_by("pk").iterator(chunk_size=BATCH):
        yield _guidance_document(guidance)


def rebuild() -> int:
    """Build the whole index afresh from the models, in one transaction; the number of
    documents it holds. For after a bulk load that wrote rows without saving models."""
    written = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Every row is read, through server-side cursors: have PostgreSQL plan them for
            # reading all of their rows, not the first few (after a bulk load, with no
            # statistics yet, the first-rows plan of the needs' join took seconds, not
            # milliseconds). SET LOCAL: the setting ends with the transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        SearchDocument.objects.all().delete()
        batch: list[SearchDocument] = []
        for document in _all_documents():
            batch.append(document)
            if len(batch) >= BATCH:
                SearchDocument.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        if batch:
            SearchDocument.objects.bulk_create(batch)
            written += len(batch)
    return written
