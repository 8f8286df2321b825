"""Capital flow (model 5.3, 11): for a budget period, each service's direct spend, its fully
loaded cost (its own spending plus its share of every provider's), what of it reaches
external users, and its cost per transaction; the invariant that all the money reaches
external users; a picture of the money flowing through the network; and, per service, how
much of each provider's spending sits inside it. The inputs are recorded here too: a
provider's consumption shares and a service's transactions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from osom.core.context import organisation_for
from osom.core.errors import DomainError, NotAllowed
from osom.core.gcpause import pauses_cycle_collection
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Service

from . import actions, queries
from .capital import round_fraction
from .charts import FlowBand, FlowNode, RankedFlows, flow_diagram, money_text
from .forms import PeriodForm, SharesForm, TransactionsForm, share_field
from .models import ConsumptionShare, PeriodVolume

__all__ = ["latest_period", "capital_flow", "capital_service", "record_shares", "record_transactions"]

MAX_SERVICES = 40  # the picture draws the largest flows among at most this many services
MAX_BANDS = 90
BANDS_LISTED = 200  # the table under the picture lists the largest flows


def latest_period() -> str | None:
    periods = queries.budget_periods_with_flow()
    return periods[0] if periods else None


def _percent(value: Fraction) -> Decimal:
    return round_fraction(value * 100, 2)


def _flows(view: queries.CapitalFlowView, *, touching: int | None = None) -> RankedFlows:
    """The money each provider passes on to each consumer (s_kj · T_k), ranked the largest
    first, then by the names of provider and consumer; only those to or from the service
    ``touching`` when given. Plain tuples (provider id, consumer id, the amount in pennies):
    a period can have over a hundred thousand flows, and only the largest are shown."""
    services, shares = view.services, view.shares
    return RankedFlows(list(view.flow.flows(2, touching=touching)),
                       band=lambda item: FlowBand(item[0], item[1], _pennies(item[2]), shares[item[0], item[1]]),
                       name=lambda pk: services[pk].name)


def _band(view: queries.CapitalFlowView, flow: tuple) -> dict:
    p, c, pennies = flow
    return {"provider": view.services[p], "consumer": view.services[c], "share": view.shares[(p, c)],
            "amount": _pennies(pennies), "provider_id": p, "consumer_id": c}


def _pennies(units: int) -> Decimal:
    return Decimal(f"{units}e-2")


def _row(view: queries.CapitalFlowView, pk: int) -> dict:
    flow, transactions = view.flow, view.transactions.get(pk)
    return {
        "service": view.services[pk], "direct": flow.direct[pk], "total": flow.fully_loaded[pk],
        "external_share": _percent(flow.external_share[pk]), "external": flow.external_cost_balanced[pk],
        "transactions": transactions,
        "per_transaction": flow.cost_per_transaction(pk, transactions) if transactions else None,
    }


def _overview(view: queries.CapitalFlowView, currency: str) -> dict:
    """What the capital-flow page shows of the whole period, whichever page of services it
    lists: the services in order (largest fully loaded cost first), the largest flows and
    the picture. Made once for as long as the period's flow is kept."""
    flow = view.flow
    order = sorted(view.services, key=lambda pk: (-flow.fully_loaded[pk], view.services[pk].name))
    flows = _flows(view)
    external = flow.external_cost_balanced
    picture = flow_diagram(
        [FlowNode(pk, s.name, flow.fully_loaded[pk], external[pk]) for pk, s in view.services.items()], flows,
        chart_id="fx-flow", title=f"How the money of {view.period} flows through the network",
        money=lambda v: money_text(v, currency), max_services=MAX_SERVICES, max_bands=MAX_BANDS,
        direct=flow.direct.__getitem__)
    return {"order": order, "bands": [_band(view, f) for f in flows.first(BANDS_LISTED)],
            "more_bands": max(0, len(flows.items) - BANDS_LISTED), "picture": picture,
            "with_transactions": sum(1 for pk in view.services if view.transactions.get(pk))}


@pauses_cycle_collection
def capital_flow(request):
    """The capital flow of a budget period (the latest by default), computed by the
    reciprocal method, with the picture of the money flowing through the network. The
    services are listed a page at a time, largest fully loaded cost first: only the rows
    of the page are worked out."""
    periods = queries.budget_periods_with_flow()
    form = PeriodForm(request.GET or None, periods=periods)
    period = request.GET.get("period") if request.GET.get("period") in periods else (periods[0] if periods else None)
    currency = organisation_for(request).currency
    context = {"nav": "fitness", "sub": "capital", "form": form, "periods": periods, "period": period,
               "currency": currency}
    if period is None:
        return render(request, "fitness/capital.html", context)
    view = queries.capital_flow_for(period)
    context["view"] = view
    if view.flow is None:
        return render(request, "fitness/capital.html", context)
    whole = view.made(("overview", currency), lambda: _overview(view, currency))
    page = Paginator(whole["order"], settings.PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_row(view, pk) for pk in page.object_list]
    flow = view.flow
    context.update({
        "page": page, "bands": whole["bands"], "more_bands": whole["more_bands"], "picture": whole["picture"],
        "total_direct": flow.total_direct, "total_external": flow.total_external, "unallocated": flow.unallocated,
        "balanced": flow.unallocated_exact == 0, "with_transactions": whole["with_transactions"],
    })
    return render(request, "fitness/capital.html", context)


@pauses_cycle_collection
def capital_service(request, period: str, slug: str):
    """One service's share of the flow: how much of each provider's spending sits inside
    its fully loaded cost, in money and per transaction; who it takes from and passes on to."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    currency = organisation_for(request).currency
    view = queries.capital_flow_for(period)
    context = {"nav": "fitness", "sub": "capital", "service": service, "period": period, "view": view,
               "currency": currency, "other_periods": [p for p in queries.budget_periods_with_flow() if p != period],
               "may_shares": can(request.user, "record_consumption_shares", service=service),
               "may_transactions": can(request.user, "record_transactions", service=service)}
    flow = view.flow
    if flow is None or service.pk not in view.services:
        return render(request, "fitness/capital_service.html", context)
    pk = service.pk
    transactions = view.transactions.get(pk)
    breakdown = flow.breakdown(pk)
    per = flow.breakdown_per_transaction(pk, transactions) if transactions else None
    total = flow.fully_loaded[pk]
    parts = []
    for key, amount in sorted(breakdown.items(), key=lambda item: (-item[1], view.services[item[0]].name)):
        parts.append({"service": view.services[key], "own": key == pk, "amount": amount,
                      "share": (amount / total * 100).quantize(Decimal("0.1")) if total else None,
                      "bar": int(amount / total * 200) if total else 0,  # pixels: 200 for the whole cost
                      "per_transaction": per[key] if per else None})
    bands = [_band(view, f) for f in _flows(view, touching=pk).ranked()]
    cost_per = flow.cost_per_transaction(pk, transactions) if transactions else None
    biggest = next((p for p in parts if not p["own"] and p["per_transaction"]), None)
    context.update({
        "direct": flow.direct[pk], "total": total, "external_share": _percent(flow.external_share[pk]),
        "external": flow.external_cost[pk], "transactions": transactions, "cost_per": cost_per, "parts": parts,
        "biggest": biggest,
        "takes": [b for b in bands if b["consumer_id"] == pk],
        "gives": [b for b in bands if b["provider_id"] == pk],
    })
    return render(request, "fitness/capital_service.html", context)


def _consumers(provider: Service) -> list[Service]:
    """The services consuming ``provider`` under their current contracts."""
    return list(Service.objects.filter(current_version__dependencies__provider=provider)
                .exclude(lifecycle_stage="decommissioned").distinct().order_by("name"))


def _plain_percent(share: Decimal) -> str:
    text = format((share * 100).normalize(), "f")
    return text


def record_shares(request, slug: str):
    """The provider's manager records how its consumption was shared out in a period:
    a percentage for each service consuming it; what is left went to external users."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "record_consumption_shares", service=service):
        return forbidden(request, refused)
    periods = queries.budget_periods_with_flow()
    period = (request.POST.get("period") or request.GET.get("period") or (periods[0] if periods else "")).strip()[:40]
    consumers = _consumers(service)
    recorded = list(ConsumptionShare.objects.filter(provider=service, period=period).select_related("consumer"))
    existing = {s.consumer.slug: _plain_percent(s.share) for s in recorded}
    # a share recorded for a service that no longer consumes this one cannot be recorded
    # again: saving the period's shares drops it, and the page says so
    known = {c.slug for c in consumers}
    dropped = [s for s in recorded if s.consumer.slug not in known]
    form = SharesForm(request.POST if request.method == "POST" else None, consumers=consumers,
                      initial_shares=existing, initial={"period": period})
    if request.method == "POST":
        def call():
            try:
                return actions.record_consumption_shares(actor=request.user, provider=service,
                                                         period=form.cleaned_data.get("period", ""),
                                                         shares=form.shares())
            except NotAllowed:
                raise
            except DomainError as exc:
                renamed: dict[str, list[str]] = {}
                for key, texts in exc.errors.items():
                    name = share_field(key[len("shares."):]) if key.startswith("shares.") else key
                    renamed.setdefault(name if name in form.fields else "", []).extend(texts)
                exc.errors = renamed
                raise
        ok, result = apply_action(request, form, call)
        if ok:
            chosen = form.cleaned_data["period"].strip()
            internal = sum((r.share for r in result), Decimal(0))
            messages.success(request, f"Recorded how {service.name}'s consumption was shared in {chosen}: "
                                      f"{_plain_percent(internal)}% to other services, "
                                      f"{_plain_percent(1 - internal)}% to external users.")
            return redirect("fitness:capital_service", period=chosen, slug=service.slug)
        if result is not None:
            return result
    internal = Decimal(0)
    for consumer in consumers:
        try:
            internal += Decimal(str(form[share_field(consumer.slug)].value() or "0").rstrip("%").strip() or "0")
        except ArithmeticError:
            pass
    return render(request, "fitness/shares_form.html", {
        "nav": "fitness", "sub": "capital", "service": service, "form": form, "periods": periods,
        "period": period, "external": _plain_percent((100 - internal) / 100) if internal <= 100 else None,
        "dropped": dropped,
    })


def record_transactions(request, slug: str):
    """A service records how many transactions it completed in a budget period."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "record_transactions", service=service):
        return forbidden(request, refused)
    periods = queries.budget_periods_with_flow()
    period = (request.GET.get("period") or (periods[0] if periods else "")).strip()[:40]
    volume = PeriodVolume.objects.filter(service=service, period=period).first()
    form = TransactionsForm(request.POST if request.method == "POST" else None,
                            initial={"period": period, "transactions": volume.transactions if volume else ""})
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.record_transactions(
            actor=request.user, service=service, period=form.cleaned_data.get("period", ""),
            transactions=form.cleaned_data.get("transactions", "")))
        if ok:
            messages.success(request, f"Recorded {result.transactions:,} transactions for {service.name} in "
                                      f"{result.period}.")
            return redirect("fitness:capital_service", period=result.period, slug=service.slug)
        if result is not None:
            return result
    return render(request, "fitness/transactions_form.html", {
        "nav": "fitness", "sub": "capital", "service": service, "form": form, "periods": periods, "volume": volume,
    })
