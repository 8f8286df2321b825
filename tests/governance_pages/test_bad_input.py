"""Bad input on the governance pages: the action's sentence on the field it names (or
at the top of the form), the page shown again, and nothing written — not a row, not an
audit event, not a notification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.governance import actions

from ..governance.helpers import (
    DUE,
    drafted_guidance,
    drafted_mandate,
    issued_mandate,
    published_guidance,
    services_dispute,
    snapshot,
    target_of,
)

YESTERDAY = (dt.date.today() - dt.timedelta(days=2)).isoformat()


def _mandate(c, **changes):
    data = {"title": "Publish your metrics monthly", "instruction": "Every metric.", "due_date": DUE.isoformat(),
            "scope": "list", "services": [c.service.pk]}
    data.update(changes)
    return data


def _guidance(**changes):
    data = {"title": "Prefer open standards", "body": "Use open standards.", "category": "architecture",
            "source": "practice", "source_detail": ""}
    data.update(changes)
    return data


def _decide_url(c, g):
    return reverse("governance:guidance_decide", args=[g.pk, c.service.slug])


def _alteration_free_version(c):
    return c.service.current_version.pk


def _rewrite_mandate(c):
    m = drafted_mandate(c)
    return reverse("governance:mandate_edit", args=[m.pk]), _mandate(c, revision=m.revision + 5)


def _progress_without_note(c):
    m = issued_mandate(c)
    t = target_of(m, c.service)
    return reverse("governance:target_progress", args=[m.pk, t.pk]), {f"t{t.pk}-note": "  ", f"t{t.pk}-done": "on"}


def _rewrite_guidance(c):
    return reverse("governance:guidance_edit", args=[drafted_guidance(c).pk]), _guidance(revision=99)


def _decide(c, **data):
    g = published_guidance(c)
    return _decide_url(c, g), {f"s{c.service.pk}-{k}": v for k, v in data.items()}


# name → (who, set-up returning (url, data), {field: words of the sentence}); "" is the top of the form
CASES = {
    "a mandate without a title, an instruction or a future date": (
        "executive", lambda c: (reverse("governance:mandate_new"), _mandate(c, title=" ", instruction="", due_date=YESTERDAY)),
        {"title": "Give it a title", "instruction": "Say what must change", "due_date": "has passed already"}),
    "a mandate with a date that is not one": (
        "executive", lambda c: (reverse("governance:mandate_new"), _mandate(c, due_date="next Tuesday")),
        {"due_date": "is not a date"}),
    "a mandate for no service": (
        "executive", lambda c: (reverse("governance:mandate_new"), _mandate(c, services=[])),
        {"services": "Choose the services"}),
    "a mandate by a filter with no filter chosen": (
        "executive", lambda c: (reverse("governance:mandate_new"), _mandate(c, scope="filter")),
        {"services": "or a filter that chooses them"}),
    "a mandate for a service that does not exist": (
        "executive", lambda c: (reverse("governance:mandate_new"), _mandate(c, services=[99999])),
        {"services": "Select a valid choice"}),
    "a rewrite of a draft mandate changed since it was opened": (
        "executive", _rewrite_mandate,
        {"": "changed by someone else"}),
    "progress reported without saying what was done": (
        "manager", _progress_without_note,
        {"note": "Say what has been done so far"}),
    "guidance without a body, a category or a source": (
        "executive", lambda c: (reverse("governance:guidance_new"), _guidance(body="", category="", source="")),
        {"body": "Write the guidance itself", "category": "is not a category", "source": "is not a source"}),
    "a rewrite of draft guidance changed since it was opened": (
        "executive", _rewrite_guidance,
        {"": "changed by someone else"}),
    "guidance withdrawn without a reason": (
        "executive", lambda c: (reverse("governance:guidance_withdraw", args=[published_guidance(c).pk]), {"reason": ""}),
        {"reason": "Say why the guidance is withdrawn"}),
    "guidance rejected without a rationale": (
        "manager", lambda c: _decide(c, decision="reject", rationale=""),
        {"rationale": "Say why the guidance does not fit"}),
    "guidance decided without a decision": (
        "manager", lambda c: _decide(c, rationale="Hmm."),
        {"decision": "is not a decision"}),
    "a dispute with no other service, subject or description": (
        "manager", lambda c: (reverse("governance:dispute_raise", args=[c.service.slug]),
                              {"other_service": "", "subject": "", "description": ""}),
        {"other_service": "Name the other service", "subject": "Give it a title", "description": "Describe what"}),
    "a dispute of a service with itself": (
        "manager", lambda c: (reverse("governance:dispute_raise", args=[c.service.slug]),
                              {"other_service": c.service.pk, "subject": "Us", "description": "Ourselves."}),
        {"other_service": "Select a valid choice"}),
    "an evaluation dispute without a description": (
        "team_member", lambda c: (reverse("governance:dispute_raise_evaluation"), {"subject": "Mine", "description": ""}),
        {"description": "Describe what"}),
    "a resolution without words or a lever": (
        "executive", lambda c: (reverse("governance:dispute_resolve", args=[services_dispute(c).pk]),
                                {"resolution": "", "lever": ""}),
        {"resolution": "Record how the dispute was resolved", "lever": "is not a lever"}),
    "a resolution by a mandate without the mandate": (
        "executive", lambda c: (reverse("governance:dispute_resolve", args=[services_dispute(c).pk]),
                                {"resolution": "A mandate.", "lever": "mandate"}),
        {"mandate": "Link the mandate used"}),
    "a resolution by an alteration that is no alteration": (
        "executive", lambda c: (reverse("governance:dispute_resolve", args=[services_dispute(c).pk]),
                                {"resolution": "Altered.", "lever": "alteration",
                                 "contract_version": _alteration_free_version(c)}),
        {"contract_version": "Select a valid choice"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_field_says_why_and_writes_nothing(cast, client, case):
    who, setup, expected = CASES[case]
    url, data = setup(cast)
    client.force_login(cast.by_role()[who])
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    forms = [f for f in (response.context.get(k) for k in ("form", "withdraw_form", "resolve_form", "close_form"))
             if f is not None and f.errors]
    forms += [f for f in response.context.get("decision_forms") or [] if f.errors]
    for t in getattr(response.context.get("page"), "object_list", None) or []:
        forms += [f for f in (getattr(t, "ack_form", None), getattr(t, "progress_form", None)) if f is not None and f.errors]
    forms = list({id(f): f for f in forms}.values())  # a form shown through {% with form=… %} is found twice
    assert len(forms) == 1, forms
    errors = forms[0].errors
    for field, words in expected.items():
        key = field or "__all__"
        assert key in errors, (key, errors)
        assert any(words in e for e in errors[key]), (field, errors[key])
        shown = errors[key][0].replace("'", "&#x27;")
        assert shown in response.content.decode()
    assert snapshot() == before
    assert AuditEvent.objects.count() == events


def test_a_filter_that_chooses_no_service_cannot_be_issued_and_says_so(cast, client):
    mandate = drafted_mandate(cast, services=None, scope_filter={"stage": "live"})
    client.force_login(cast.executive)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("governance:mandate_issue", args=[mandate.pk]), follow=True)
    assert "No service matches this mandate" in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_acknowledging_twice_says_so_and_writes_nothing(cast, client):
    mandate = issued_mandate(cast)
    target = target_of(mandate, cast.service)
    actions.acknowledge_mandate(actor=cast.manager, target=target)
    client.force_login(cast.manager)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("governance:target_acknowledge", args=[mandate.pk, target.pk]), {f"a{target.pk}-note": ""},
                           follow=True)
    assert "Parking permits has acknowledged this mandate already." in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events
