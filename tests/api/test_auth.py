"""Who the API believes a request comes from: a personal API token, or a signed-in
browser session whose writes carry the CSRF token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from osom.core.actions import issue_api_token, revoke_api_token
from osom.core.models import AuditEvent

from .. import factories
from .conftest import API, ApiClient, snapshot


def test_a_valid_token_acts_as_its_person(cast):
    _, raw = issue_api_token(actor=cast.manager, person=cast.manager)
    response = ApiClient(raw).post("/services/parking-permits/drafts", {"change_note": "More needs"})
    assert response.status_code == 201
    assert AuditEvent.objects.latest("id").actor == cast.manager


@pytest.mark.parametrize("header", [None, "Bearer osom_not-a-real-token", "Bearer ", "Token abc", "osom_abc"])
def test_a_missing_or_invalid_token_is_a_401(cast, header):
    client = Client()
    headers = {"Authorization": header} if header is not None else {}
    for method in ("GET", "POST"):
        response = client.generic(method, f"{API}/services", data="{}", content_type="application/json", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorised"


def test_an_expired_token_is_a_401(cast, monkeypatch):
    _, raw = issue_api_token(actor=cast.manager, person=cast.manager, days=1)
    assert ApiClient(raw).get("/services").status_code == 200
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert ApiClient(raw).get("/services").status_code == 401


def test_a_revoked_token_is_a_401(cast):
    token, raw = issue_api_token(actor=cast.manager, person=cast.manager)
    revoke_api_token(actor=cast.manager, token=token)
    assert ApiClient(raw).get("/services").status_code == 401


def test_a_token_revoked_through_the_api_stops_working(cast):
    token, raw = issue_api_token(actor=cast.manager, person=cast.manager)
    client = ApiClient(raw)
    assert client.delete(f"/tokens/{token.pk}").status_code == 200
    assert client.get("/services").status_code == 401


def test_a_new_token_is_shown_once_and_then_works(cast):
    _, raw = issue_api_token(actor=cast.outsider, person=cast.outsider)
    issued = ApiClient(raw).post("/tokens", {"label": "laptop", "days": 7}).json()
    assert issued["token"].startswith(issued["prefix"])
    assert ApiClient(issued["token"]).get("/tokens").json()["count"] == 2
    listed = ApiClient(issued["token"]).get("/tokens").json()["items"]
    assert all("token" not in item for item in listed)


def _signed_in(person) -> tuple[Client, str]:
    """A browser that enforces CSRF like a real one, signed in, holding its CSRF cookie."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    browser.get(f"{API}/docs")  # the docs page hands out the CSRF token
    return browser, browser.cookies["csrftoken"].value


def test_a_signed_in_session_can_read(cast):
    browser, _ = _signed_in(cast.outsider)
    assert browser.get(f"{API}/services").status_code == 200


def test_a_sessions_write_without_the_csrf_token_is_refused(cast):
    browser, _ = _signed_in(cast.executive)
    before = snapshot()
    response = browser.post(f"{API}/services", factories.contract("Waste"), content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert snapshot() == before


def test_a_sessions_write_with_the_csrf_token_is_done(cast):
    browser, csrf = _signed_in(cast.executive)
    response = browser.post(f"{API}/services", factories.contract("Waste"), content_type="application/json",
                            headers={"X-CSRFToken": csrf})
    assert response.status_code == 201
    assert AuditEvent.objects.latest("id").actor == cast.executive


def test_a_wrong_token_is_not_rescued_by_a_session_cookie(cast):
    browser, _ = _signed_in(cast.executive)
    response = browser.get(f"{API}/services", headers={"Authorization": "Bearer osom_wrong"})
    assert response.status_code == 401
