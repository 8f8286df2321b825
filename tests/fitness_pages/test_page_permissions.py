"""Every write page of fitness data and capital flow, as every role: allowed, or the 403
page with the policy's sentence — nothing written and no audit event. Pages with a form
refuse before showing it; every reading page is open to everyone signed in."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.fitness import actions
from osom.fitness.models import (
    Aggregation,
    ConsumptionShare,
    IngestToken,
    Measurement,
    MetricSeries,
    PeriodVolume,
)
from osom.network.models import Metric

from .helpers import PERIOD, measure, months_ago, spend

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
EXECUTIVE = {"executive", "exec_team"}
PEOPLE = {"manager", "team_member"}


def _csv(c):
    start, end = months_ago(1)
    return SimpleUploadedFile("m.csv", f"metric,period_start,period_end,value\nm1,{start},{end},97\n".encode(),
                              content_type="text/csv")


def _figure(c):
    return actions.define_aggregation(actor=c.executive, name="Mean outcome", expression="avg(m1)")


def _token(c):
    return actions.issue_ingest_token(actor=c.manager, service=c.service)[0]


def _written() -> dict:
    """What any of these pages could write, counted."""
    return {model.__name__: model.objects.count() for model in
            (Measurement, MetricSeries, IngestToken, Aggregation, ConsumptionShare, PeriodVolume, Metric)} | {
        "revoked": IngestToken.objects.filter(revoked_at__isnull=False).count(),
        "retired": Aggregation.objects.filter(retired_at__isnull=False).count(),
        "cadence": sum(MetricSeries.objects.values_list("cadence_days", flat=True)),
        "revisions": sum(Aggregation.objects.values_list("revision", flat=True)),
    }


def _record(c):
    start, end = months_ago(1)
    return (reverse("fitness:record", args=[c.service.slug]),
            {"metric_key": "m1", "value": "97", "period_start": start.isoformat(), "period_end": end.isoformat()})


# name → (set-up returning (url, data), the act audited, roles allowed, the status when allowed, the refusal)
PAGES = {
    "record a measurement": (
        _record, "record_measurement", PEOPLE, 302,
        "Only the service manager of Parking permits or its team may record this service's measurements."),
    "upload measurements": (
        lambda c: (reverse("fitness:upload", args=[c.service.slug]), {"file": _csv(c)}), "import_measurements", PEOPLE, 302,
        "Only the service manager of Parking permits or its team may upload this service's measurements."),
    "set a cadence": (
        lambda c: (reverse("fitness:cadence", args=[c.service.slug, "m1"]), {"days": "7"}), "set_measurement_cadence",
        {"manager"}, 302, "Only the service manager of Parking permits may set how often this service reports a metric."),
    "add a standard measure": (
        lambda c: (reverse("fitness:add_standard", args=[c.service.slug]), {"measure": "completion-rate", "target": ""}),
        "add_standard_measure", EXECUTIVE | {"manager"}, 302,
        "Only the service manager of Parking permits or the Executive may add a standard measure to this service's contract."),
    "issue an ingest token": (
        lambda c: (reverse("fitness:tokens", args=[c.service.slug]), {"label": "Back office"}), "issue_ingest_token",
        {"manager"}, 200, "Only the service manager of Parking permits may issue an ingest token for this service."),
    "revoke an ingest token": (
        lambda c: (reverse("fitness:token_revoke", args=[c.service.slug, _token(c).pk]), {}), "revoke_ingest_token",
        EXECUTIVE | {"manager"}, 302,
        "Only the service manager of Parking permits or the Executive may revoke this service's ingest token."),
    "define a figure": (
        lambda c: (reverse("fitness:figure_new"), {"name": "Mean outcome", "expression": "avg(m1)", "unit": "%",
                                                   "grain": "month", "within": "latest", "description": ""}),
        "define_aggregation", EXECUTIVE, 302, "Only the Executive may define figures across services."),
    "change a figure": (
        lambda c: (lambda a: (reverse("fitness:figure_edit", args=[a.slug]),
                              {"name": a.name, "expression": "max(m1)", "unit": "", "grain": "quarter",
                               "within": "mean", "description": "", "revision": a.revision}))(_figure(c)),
        "define_aggregation", EXECUTIVE, 302, "Only the Executive may define figures across services."),
    "retire a figure": (
        lambda c: (reverse("fitness:figure_retire", args=[_figure(c).slug]), {}), "retire_aggregation", EXECUTIVE, 302,
        "Only the Executive may retire a figure."),
    "record consumption shares": (
        lambda c: (reverse("fitness:shares", args=[c.other_service.slug]),
                   {"period": PERIOD, "share_parking-permits": "40"}),
        "record_consumption_shares", EXECUTIVE | {"other_manager"}, 302,
        "Only the service manager of Identity or the Executive may record how this service's consumption was shared."),
    "record transactions": (
        lambda c: (reverse("fitness:transactions", args=[c.service.slug]), {"period": PERIOD, "transactions": "1200"}),
        "record_transactions", PEOPLE, 302,
        "Only the service manager of Parking permits or its team may record this service's transactions."),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(cast, client, page, role):
    setup, act, allowed, status, sentence = PAGES[page]
    url, data = setup(cast)
    client.force_login(cast.by_role()[role])
    before, written = AuditEvent.objects.filter(verb=act).count(), _written()
    audit_total = AuditEvent.objects.count()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == status, response.content.decode()[:2000]
        assert AuditEvent.objects.filter(verb=act).count() == before + 1
        assert _written() != written
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert sentence.replace("'", "&#x27;") in body, body[body.find("callout"):][:300]
        assert AuditEvent.objects.count() == audit_total
        assert _written() == written


FORM_PAGES = {
    "record a measurement": (lambda c: reverse("fitness:record", args=[c.service.slug]), PEOPLE),
    "upload measurements": (lambda c: reverse("fitness:upload", args=[c.service.slug]), PEOPLE),
    "set a cadence": (lambda c: reverse("fitness:cadence", args=[c.service.slug, "m1"]), {"manager"}),
    "add a standard measure": (lambda c: reverse("fitness:add_standard", args=[c.service.slug]), EXECUTIVE | {"manager"}),
    "ingest tokens": (lambda c: reverse("fitness:tokens", args=[c.service.slug]), EXECUTIVE | {"manager"}),
    "define a figure": (lambda c: reverse("fitness:figure_new"), EXECUTIVE),
    "change a figure": (lambda c: reverse("fitness:figure_edit", args=[_figure(c).slug]), EXECUTIVE),
    "record consumption shares": (lambda c: reverse("fitness:shares", args=[c.other_service.slug]),
                                  EXECUTIVE | {"other_manager"}),
    "record transactions": (lambda c: reverse("fitness:transactions", args=[c.service.slug]), PEOPLE),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(FORM_PAGES))
def test_form_pages_refuse_before_showing_the_form(cast, client, page, role):
    make_url, allowed = FORM_PAGES[page]
    url = make_url(cast)
    client.force_login(cast.by_role()[role])
    response = client.get(url)
    body = response.content.decode()
    if role in allowed:
        assert response.status_code == 200 and "<form" in body
    else:
        assert response.status_code == 403 and "Only " in body and 'method="post"' not in body.split("<main")[1]


def _with_data(c):
    measure(c, "97", back=1)
    spend(c, c.service, "100")
    spend(c, c.other_service, "50")
    actions.record_consumption_shares(actor=c.other_manager, provider=c.other_service, period=PERIOD,
                                      shares={"parking-permits": "40%"})


READ_PAGES = {
    "the network's fitness": lambda c: reverse("fitness:overview"),
    "the standard measures": lambda c: reverse("fitness:standard_measures"),
    "figures": lambda c: reverse("fitness:figures"),
    "a figure": lambda c: reverse("fitness:figure", args=[_figure(c).slug]),
    "the live check": lambda c: reverse("fitness:check_expression") + "?expression=avg(m1)",
    "capital flow": lambda c: reverse("fitness:capital"),
    "a service's capital flow": lambda c: reverse("fitness:capital_service", args=[PERIOD, c.service.slug]),
    "a service's fitness": lambda c: reverse("fitness:service", args=[c.service.slug]),
    "a metric": lambda c: reverse("fitness:metric", args=[c.service.slug, "m1"]),
    "the export": lambda c: reverse("fitness:export", args=[c.service.slug]),
    "the service page": lambda c: reverse("network:service", args=[c.service.slug]),
    "the dashboard": lambda c: reverse("governance:dashboard"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(READ_PAGES))
def test_every_reading_page_is_open_to_everyone_in_the_organisation(cast, client, page, role):
    _with_data(cast)
    url = READ_PAGES[page](cast)
    client.force_login(cast.by_role()[role])
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("page", list(READ_PAGES))
def test_every_page_needs_signing_in(cast, client, page):
    response = client.get(READ_PAGES[page](cast))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", ["fitness:token_revoke", "fitness:figure_retire"])
def test_buttons_take_only_posts(cast, client, url):
    client.force_login(cast.executive)
    args = [cast.service.slug, _token(cast).pk] if url == "fitness:token_revoke" else [_figure(cast).slug]
    assert client.get(reverse(url, args=args)).status_code == 405
