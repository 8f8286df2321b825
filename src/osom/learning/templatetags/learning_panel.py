"""The learning loop on a service's page, as an inclusion tag, so the network app needs
to know nothing of Corrections of Error, doctrine rounds or open roles."""

from __future__ import annotations

from django import template
from django.db.models import Count, Q
from django.utils import timezone

from osom.core.orgcache import current_organisation
from osom.core.policy import can

from ..models import CorrectionOfError, CorrectiveAction, DoctrineRound, OpenRole

register = template.Library()

__all__ = ["learning_panel"]

RECENT = 5


@register.inclusion_tag("learning/coe/_service_panel.html", takes_context=True)
def learning_panel(context, service):
    """The service's recent Corrections of Error (its drafts only for its people), its
    latest doctrine self-assessment and its open roles, with the links to add to each for
    those allowed. Four queries at most, whatever the size of the service's history."""
    request = context.get("request")
    user = getattr(request, "user", None)
    may = {
        "write_coe": can(user, "write_coe", service=service),
        "open_round": can(user, "open_doctrine_round", service=service),
        "post_role": can(user, "post_open_role", service=service),
    }
    coes = CorrectionOfError.objects.filter(service=service)
    if not may["write_coe"]:
        coes = coes.exclude(status=CorrectionOfError.Status.DRAFT)
    coes = coes.annotate(overdue=Count("actions", filter=Q(actions__status=CorrectiveAction.Status.OPEN,
                                                           actions__due_date__lt=timezone.localdate())))
    return {
        "service": service,
        "request": request,
        "terms": context.get("terms") or current_organisation().terms(),
        "may": may,
        "coes": list(coes.order_by("-occurred_on", "-pk")[:RECENT]),
        "latest_round": DoctrineRound.objects.filter(service=service).order_by("-opened_at", "-pk").first(),
        "roles": list(OpenRole.objects.filter(service=service, status=OpenRole.Status.OPEN).select_related("role")
                      .order_by("-posted_at", "-pk")[:RECENT]),
        "running": service.lifecycle_stage != "decommissioned",
    }
