"""Reading the network: the list, a service's page, a version, the diff between two."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from osom.core.context import organisation_for
from osom.core.models import Person

from . import queries
from .diff import diff_versions
from .forms import NetworkFilterForm
from .models import ContractVersion, Service
from .stages import Lifecycle

__all__ = ["network_list", "service_page", "service_consumers", "version_page", "compare_versions", "service_lookup"]


MANAGER_CHOICES = 300


def network_list(request):
    """Every service with its stage, evolution, manager, users and links, filtered and paged."""
    # a list to choose the manager from, unless there are too many to list on a page
    # The first few hundred distinct managers are read off the index of services by
    # manager: enough to tell whether they are too many, without visiting every service.
    some = (Service.objects.filter(manager__isnull=False).order_by("manager_id").values("manager_id")
            .distinct()[:MANAGER_CHOICES + 1])
    managers = list(Person.objects.filter(pk__in=some).order_by("name").only("pk", "name"))
    if len(managers) > MANAGER_CHOICES:
        managers = None
    form = NetworkFilterForm(request.GET or None, managers=managers,
                             manager_label=organisation_for(request).service_manager_name)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = queries.network_list(**{k: filters.get(k) or "" for k in ("q", "stage", "evolution", "manager", "users")},
                              flagged=True if filters.get("flagged") else None)
    page = Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    # one query for both: services by stage, and those flagged for decommissioning
    rows = list(Service.objects.values_list("lifecycle_stage")
                .annotate(n=Count("pk"), flagged=Count("pk", filter=~Q(decommission_flag=""))).order_by())
    by_stage = {stage: n for stage, n, _ in rows}
    flagged = sum(f for stage, _, f in rows if stage != Lifecycle.DECOMMISSIONED)
    context = {
        "nav": "network",
        "form": form,
        "page": page,
        "stage_counts": [(value, label, by_stage.get(value, 0)) for value, label in Lifecycle.choices],
        "total": sum(by_stage.values()),
        "flagged_count": flagged,
        "filtered": any(filters.get(k) for k in ("q", "stage", "evolution", "manager", "users", "flagged")),
    }
    if request.htmx and request.htmx.target == "network-results":
        return render(request, "network/_list_results.html", context)
    return render(request, "network/list.html", context)


def service_page(request, slug: str):
    """A service's current contract, its links in the network, its people and its history."""
    try:
        detail = queries.service_detail(slug, consumers=queries.CONSUMERS_SHOWN)
    except Service.DoesNotExist:
        raise Http404("No service has that address.")
    service = detail["service"]
    _label_stages(detail["consumers"])
    detail["consumers_more"] = max(0, detail["consumers_total"] - len(detail["consumers"]))
    detail["cycle"] = queries.cycle_through(service) if service.current_version_id else []
    detail["nav"] = "network"
    approved = [v for v in detail["versions"] if v.is_approved]
    detail["compare_default"] = (approved[1].number, approved[0].number) if len(approved) > 1 else None
    return render(request, "network/service.html", detail)


def _label_stages(rows: list[dict]) -> None:
    labels = dict(Lifecycle.choices)
    for row in rows:
        row["lifecycle_label"] = labels.get(row["lifecycle_stage"], row["lifecycle_stage"])


def service_consumers(request, slug: str):
    """Every service that consumes this one on its current contract, by name, a page at a time."""
    service = get_object_or_404(Service.objects.only("pk", "name", "slug"), slug=slug)
    page = Paginator(queries.consumer_rows(service), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    _label_stages(page.object_list)
    return render(request, "network/consumers.html", {"nav": "network", "service": service, "page": page})


def version_page(request, slug: str, number: int):
    """One version of the contract, as it was approved or as it stands in draft."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    try:
        version = queries.version_detail(service, number)
    except ContractVersion.DoesNotExist:
        raise Http404("That version does not exist.")
    previous = service.versions.filter(number__lt=number).order_by("-number").values_list("number", flat=True).first()
    context = {"nav": "network", "service": service, "version": version, "previous": previous,
               "consumers": [], "is_current": service.current_version_id == version.pk}
    if version.status != "approved":
        context["cycle"] = queries.cycle_through(service, draft=version)
    return render(request, "network/version.html", context)


def compare_versions(request, slug: str):
    """How the contract changed between any two versions (``?from=A&to=B``)."""
    service = get_object_or_404(Service, slug=slug)
    versions = list(service.versions.select_related("service").order_by("-number"))
    if not versions:
        raise Http404("This service has no versions.")
    numbers = {v.number: v for v in versions}

    def pick(name: str, default: int) -> int:
        try:
            value = int(request.GET.get(name, default))
        except (TypeError, ValueError):
            value = default
        return value if value in numbers else default

    newest = versions[0].number
    older_default = versions[1].number if len(versions) > 1 else newest
    a, b = pick("from", older_default), pick("to", newest)
    diff = diff_versions(numbers[a], numbers[b])
    return render(request, "network/compare.html", {
        "nav": "network", "service": service, "versions": versions, "diff": diff, "a": a, "b": b,
    })


def service_lookup(request):
    """``<option>`` elements for a service-name input's datalist, searched as the person types."""
    # the input may be any form's field (deps-3-provider…): take the one value sent
    q = (next(iter(request.GET.values()), "") or "").strip()
    names = []
    if q:
        names = list(Service.objects.filter(name__icontains=q).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
                     .order_by("name").values_list("name", flat=True)[:20])
    return render(request, "network/_service_options.html", {"names": names})
