"""Bad input on every lifecycle form: the page comes back with the error on the field it
names (or at the top of the form when it names none of its fields), and nothing is
written — no row, no audit event."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.lifecycle import actions
from osom.lifecycle.models import (
    Assessment,
    AssessmentCriterion,
    BudgetAllocation,
    Criterion,
    FundingRequest,
    Reinvestment,
    ReportAddendum,
    Spend,
)
from osom.network.models import Service

from .helpers import criteria, decided, published, scheduled, with_agenda


def _allocation(c):
    return actions.allocate_budget(actor=c.executive, service=c.service, period="2026-27", amount="1000")


def _snapshot():
    """Everything a lifecycle form could write, as it stands."""
    rows = [
        AuditEvent.objects.count(), Criterion.objects.count(), Assessment.objects.count(),
        BudgetAllocation.objects.count(), Spend.objects.count(), Reinvestment.objects.count(),
        FundingRequest.objects.count(), ReportAddendum.objects.count(),
    ]
    rows.append(list(Criterion.objects.order_by("pk").values_list("name", "meaning", "revision")))
    rows.append(list(Assessment.objects.order_by("pk").values_list("status", "scheduled_for", "result", "outcome", "revision")))
    rows.append(list(AssessmentCriterion.objects.order_by("pk").values_list("decision", "did_well")))
    rows.append(list(Service.objects.order_by("pk").values_list("lifecycle_stage", "assessment_cadence_days", "next_assessment_due")))
    rows.append(list(FundingRequest.objects.order_by("pk").values_list("status")))
    return rows


def _decisions_data(a, **changes):
    data = {"result": "met", "outcome": "progress_to_alpha", "summary": "", "revision": a.revision}
    for item in a.items.all():
        data[f"c{item.criterion_id}_decision"] = "met"
    data.update(changes)
    return data


def _first_item(a):
    return a.items.order_by("position").first().criterion_id


# name → set-up returning (url, data, the context name of the form, the field that must carry the error
# (None: the top of the form), a part of the message)
CASES = {
    "criterion without a name": lambda c: (
        reverse("lifecycle:criterion_add"), {"name": "", "meaning": "Means it.", "source": "executive"},
        "form", "name", "Give the criterion a name."),
    "criterion with a ftp link": lambda c: (
        reverse("lifecycle:criterion_add"), {"name": "New one", "meaning": "Means it.", "link": "ftp://x.org"},
        "form", "link", "must start with http"),
    "criterion renamed to another's name": lambda c: (
        reverse("lifecycle:criterion_edit", args=[criteria(1)[0].slug]),
        {"name": criteria(2)[1].name, "meaning": "x", "active": "on", "revision": criteria(1)[0].revision},
        "form", "name", "There is already a criterion called"),
    "criterion edited from a stale revision": lambda c: (
        reverse("lifecycle:criterion_edit", args=[criteria(1)[0].slug]),
        {"name": "Renamed", "meaning": "x", "active": "on", "revision": criteria(1)[0].revision - 1 or 99},
        "form", None, "changed by someone else"),
    "schedule without assessors": lambda c: (
        reverse("lifecycle:schedule", args=[c.service.slug]),
        {"kind": "transition", "scheduled_for": "2030-01-01", "criteria": [x.pk for x in criteria(2)]},
        "form", "assessors", "Choose at least one assessor"),
    "schedule on no date": lambda c: (
        reverse("lifecycle:schedule", args=[c.service.slug]),
        {"kind": "transition", "scheduled_for": "next Tuesday", "assessors": [c.executive.pk],
         "criteria": [x.pk for x in criteria(2)]},
        "form", "scheduled_for", "is not a date"),
    "schedule without criteria": lambda c: (
        reverse("lifecycle:schedule", args=[c.service.slug]),
        {"kind": "transition", "scheduled_for": "2030-01-01", "assessors": [c.executive.pk]},
        "form", "criteria", "Choose at least one criterion"),
    "schedule a periodic assessment of a discovery service": lambda c: (
        reverse("lifecycle:schedule", args=[c.service.slug]),
        {"kind": "periodic", "scheduled_for": "2030-01-01", "assessors": [c.executive.pk],
         "criteria": [x.pk for x in criteria(2)]},
        "form", "kind", "Select a valid choice"),
    "schedule a second open assessment": lambda c: (
        (scheduled(c), reverse("lifecycle:schedule", args=[c.service.slug]))[1],
        {"kind": "transition", "scheduled_for": "2030-01-01", "assessors": [c.executive.pk],
         "criteria": [x.pk for x in criteria(2)]},
        "form", None, "already has an assessment"),
    "change an assessment to no date": lambda c: (lambda a: (
        reverse("lifecycle:assessment_edit", args=[a.pk]),
        {"scheduled_for": "", "assessors": [c.executive.pk], "criteria": [x.pk for x in criteria(2)], "revision": a.revision},
        "form", "scheduled_for", "Give a date."))(scheduled(c)),
    "cancel without a reason": lambda c: (
        reverse("lifecycle:cancel", args=[scheduled(c).pk]), {"reason": "  "},
        "cancel_form", "reason", "Say why the assessment is cancelled."),
    "a decision that is neither met nor not met": lambda c: (lambda a: (
        reverse("lifecycle:decisions", args=[a.pk]), _decisions_data(a, **{f"c{_first_item(a)}_decision": "maybe"}),
        "decisions_form", f"c{_first_item(a)}_decision", "Select a valid choice"))(with_agenda(c)),
    "an outcome of another stage": lambda c: (lambda a: (
        reverse("lifecycle:decisions", args=[a.pk]), _decisions_data(a, outcome="progress_to_live"),
        "decisions_form", "outcome", "Select a valid choice"))(with_agenda(c)),
    "decisions from a stale revision": lambda c: (lambda a: (
        reverse("lifecycle:decisions", args=[a.pk]), _decisions_data(a, revision=a.revision - 1),
        "decisions_form", None, "changed by someone else"))(with_agenda(c)),
    "publish without the budget amount": lambda c: (lambda a: (
        reverse("lifecycle:publish_report", args=[a.pk]), {"budget_amount": "", "budget_period": "2026-27", "revision": a.revision},
        "publish_form", "budget_amount", "Give an amount of money."))(decided(c)),
    "publish with a budget that is not money": lambda c: (lambda a: (
        reverse("lifecycle:publish_report", args=[a.pk]), {"budget_amount": "lots", "budget_period": "", "revision": a.revision},
        "publish_form", "budget_period", "Say which period the budget is for"))(decided(c)),
    "publish without the decommission reasons": lambda c: (lambda a: (
        reverse("lifecycle:publish_report", args=[a.pk]),
        {"decommission_condition": "b", "decommission_reasons": "", "migration_path": "Elsewhere.", "revision": a.revision},
        "publish_form", "decommission_reasons", "Record why the service is decommissioned"))(
            decided(c, c.other_service, result="not_met", outcome="not_required")),
    "publish a consumed service's decommissioning without a migration path": lambda c: (lambda a: (
        reverse("lifecycle:publish_report", args=[a.pk]),
        {"decommission_condition": "b", "decommission_reasons": "Gone.", "migration_path": "", "revision": a.revision},
        "publish_form", "migration_path", "say how they migrate away"))(
            decided(c, c.other_service, result="not_met", outcome="not_required")),
    "publish before deciding": lambda c: (lambda a: (
        reverse("lifecycle:publish_report", args=[a.pk]), {"revision": a.revision},
        "publish_form", None, "Choose the outcome of the assessment."))(with_agenda(c)),
    "an empty addendum": lambda c: (
        reverse("lifecycle:addendum", args=[published(c).pk]), {"text": ""},
        "addendum_form", "text", "Write the addendum."),
    "a default interval that is not a number": lambda c: (
        reverse("lifecycle:due"), {"days": "yearly"}, "cadence_form", "days", "is not a number of days"),
    "a service interval that is too short": lambda c: (
        reverse("lifecycle:cadence", args=[c.service.slug]), {"days": "3"}, "cadence_form", "days", "between 7 and 3650"),
    "an allocation that is not money": lambda c: (
        reverse("lifecycle:allocate", args=[c.service.slug]), {"period": "2026-27", "amount": "lots", "stage": "discovery"},
        "allocate_form", "amount", "is not an amount of money"),
    "an allocation without a period": lambda c: (
        reverse("lifecycle:allocate", args=[c.service.slug]), {"period": "", "amount": "10", "stage": "discovery"},
        "allocate_form", "period", "Say which period"),
    "a negative spend": lambda c: (
        reverse("lifecycle:spend", args=[c.service.slug]),
        {"allocation": _allocation(c).pk, "amount": "-5", "spent_on": "2026-05-01", "description": "Refund"},
        "spend_form", "amount", "must be more than zero"),
    "a spend on no date": lambda c: (
        reverse("lifecycle:spend", args=[c.service.slug]),
        {"allocation": _allocation(c).pk, "amount": "5", "spent_on": "yesterday", "description": "Tea"},
        "spend_form", "spent_on", "is not a date"),
    "a spend on nothing": lambda c: (
        reverse("lifecycle:spend", args=[c.service.slug]),
        {"allocation": _allocation(c).pk, "amount": "5", "spent_on": "2026-05-01", "description": ""},
        "spend_form", "description", "Say what the money was spent on."),
    "a spend against another service's allocation": lambda c: (
        reverse("lifecycle:spend", args=[c.service.slug]),
        {"allocation": actions.allocate_budget(actor=c.executive, service=c.other_service, period="2026-27", amount="9").pk,
         "amount": "5", "spent_on": "2026-05-01", "description": "Tea"},
        "spend_form", "allocation", "Choose one of this service's allocations."),
    "re-investing more than remains": lambda c: (
        reverse("lifecycle:reinvest", args=[c.service.slug]), {"allocation": _allocation(c).pk, "amount": "5000", "purpose": "X"},
        "reinvest_form", "amount", "is unspent"),
    "a request to expand without an amount": lambda c: (
        reverse("lifecycle:request_funding", args=[c.service.slug]),
        {"kind": "expand", "period": "2026-27", "amount": "", "rationale": "More users."},
        "request_form", "amount", "Give an amount of money."),
    "a request without a rationale": lambda c: (
        reverse("lifecycle:request_funding", args=[c.service.slug]),
        {"kind": "narrow", "period": "2026-27", "amount": "", "rationale": ""},
        "request_form", "rationale", "Explain why"),
}


def _decide_case(c):
    r = actions.request_funding(actor=c.manager, service=c.service, kind="expand", period="2026-27", amount="500",
                                rationale="More users.")
    return (reverse("lifecycle:decide_request", args=[c.service.slug, r.pk]),
            {f"r{r.pk}-decision": "grant", f"r{r.pk}-note": "", f"r{r.pk}-amount": ""}, "decide_form", "note", "Say why")


CASES["a decision on a request without a reason"] = _decide_case

# the forms a manager fills in; the executive fills in the others
BY_THE_MANAGER = {
    "a negative spend", "a spend on no date", "a spend on nothing", "a spend against another service's allocation",
    "re-investing more than remains", "a request to expand without an amount", "a request without a rationale",
}


def _actor(cast, name: str):
    return cast.manager if name in BY_THE_MANAGER else cast.executive


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_put_on_the_field_it_names_and_nothing_is_written(cast, client, case):
    url, data, form_name, field, message = CASES[case](cast)
    client.force_login(_actor(cast, case))
    before = _snapshot()
    response = client.post(url, data)
    assert response.status_code == 200, (response.status_code, response.content.decode()[:800])
    if form_name == "decide_form":  # one form per open request, on the request it decides
        form = next(r.decide_form for r in response.context["requests"].object_list if getattr(r, "decide_form", None) is not None
                    and r.decide_form.is_bound)
    else:
        form = response.context[form_name]
    errors = form.errors.get(field or "__all__", [])
    assert any(message in e for e in errors), form.errors
    body = response.content.decode()
    if field:  # shown next to its field, announced as an error
        assert f'id="{form[field].auto_id}_error"' in body  # the id its control's aria-describedby names
    else:
        assert 'class="error-summary"' in body
    assert _snapshot() == before
