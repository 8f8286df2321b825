"""The adaptation register (model 10): recording, revising and retiring deviations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.governance.models import Deviation

from .helpers import a_deviation

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
ALLOWED = {"executive", "exec_team"}

FIELDS = {"title": "Finance approves budgets over £50,000", "compromised": "The executive alone allocates budgets.",
          "positive": "Large commitments get a second look.", "negative": "Funding for big changes is slower.",
          "governance": "Finance answers within five working days.", "review_on": "2099-03-31"}


def _record(c):
    return reverse("governance:deviation_new"), dict(FIELDS)


def _revise(c):
    d = a_deviation(c.executive)
    return reverse("governance:deviation", args=[d.pk]), {**FIELDS, "review_on": "2099-06-30", "revision": d.revision}


def _retire(c):
    d = a_deviation(c.executive)
    return reverse("governance:deviation_retire", args=[d.pk]), {"reason": "We follow the template again."}


PAGES = {"record": _record, "revise": _revise, "retire": _retire}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_only_the_executive_keeps_the_register(cast, client, page, role):
    url, data = PAGES[page](cast)
    person = cast.by_role()[role]
    client.force_login(person)
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    if role in ALLOWED:
        assert response.status_code == 302, response.content.decode()[:800]
        assert AuditEvent.objects.count() == before + 1
        assert AuditEvent.objects.latest("id").actor == person
    else:
        assert response.status_code == 403
        assert "Only the Executive may record a deviation from the template." in response.content.decode()
        assert AuditEvent.objects.count() == before


def test_recording_with_missing_parts_names_each_and_writes_nothing(cast, client):
    client.force_login(cast.executive)
    before = AuditEvent.objects.count()
    response = client.post(reverse("governance:deviation_new"), {**FIELDS, "negative": "", "governance": " ", "review_on": ""})
    errors = response.context["form"].errors
    assert errors["negative"] == ["Record its negative consequences."]
    assert errors["governance"] == ["Say what governance balances the negative consequences."]
    assert errors["review_on"] == ["Give a date."]
    assert not Deviation.objects.exists() and AuditEvent.objects.count() == before


def test_revising_changes_the_deviation_and_a_stale_revision_is_refused(cast, client):
    url, data = _revise(cast)
    client.force_login(cast.executive)
    client.post(url, data)
    deviation = Deviation.objects.get()
    assert str(deviation.review_on) == "2099-06-30" and deviation.revision == 2
    before = AuditEvent.objects.count()
    response = client.post(url, {**data, "title": "Someone else's change", "revision": 1})
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    deviation.refresh_from_db()
    assert deviation.title == FIELDS["title"] and AuditEvent.objects.count() == before


def test_retiring_needs_a_reason_and_shows_it_in_the_history(cast, client):
    deviation = a_deviation(cast.executive)
    client.force_login(cast.executive)
    url = reverse("governance:deviation_retire", args=[deviation.pk])
    response = client.post(url, {"reason": ""})
    assert response.context["retire_form"].errors["reason"] == ["Say why the deviation no longer applies."]
    deviation.refresh_from_db()
    assert deviation.status == Deviation.Status.ACTIVE
    response = client.post(url, {"reason": "We follow the template again."}, follow=True)
    deviation.refresh_from_db()
    assert deviation.status == Deviation.Status.RETIRED
    body = response.content.decode()
    assert "We follow the template again." in body and "Retired the deviation" in body
    assert response.context["form"] is None and response.context["retire_form"] is None
