"""The organisation's pages: people, a person, the audit log and the organisation's own
names. What each shows, who may act on it, what a refusal looks like, and what it costs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django import forms
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from osom.core.actions import create_person, edit_terminology, issue_api_token
from osom.core.errors import Conflict, InvalidInput, NotAllowed
from osom.core.models import ApiToken, AuditEvent, Organisation, Person
from osom.core.views import apply_action
from osom.network.actions import add_team_member
from osom.network.models import ProfessionalRole

from .. import factories

PAGES = ["core:people", "core:audit", "core:organisation"]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _names_form(org: Organisation, **changes) -> dict:
    data = {f: getattr(org, f) for f in ("name", "model_name", "executive_name", "executive_team_name", "service_manager_name")}
    data["revision"] = org.revision
    data.update(changes)
    return data


def _grow_people(executive, count: int, start: int) -> None:
    """``count`` more people, each managing a service and in another's team."""
    role = ProfessionalRole.objects.get(name="User researcher")
    previous = None
    for i in range(start, start + count):
        person = create_person(actor=executive, email=f"p{i}@example.org", name=f"Person {i:03d}",
                               areas_of_interest="finance, risk")
        service = factories.service(executive, f"Grown service {i:03d}", manager=person)
        if previous is not None:
            add_team_member(actor=person, service=service, person=previous, role=role, level="senior")
        previous = person


# ---------------------------------------------------------------- every page


@pytest.mark.parametrize("role", ["executive", "exec_team", "manager", "team_member", "outsider"])
@pytest.mark.parametrize("page", PAGES + ["core:person"])
def test_each_page_renders_for_anyone_signed_in(cast, client, page, role):
    person = cast.by_role()[role]
    client.force_login(person)
    url = reverse(page, args=[cast.manager.pk]) if page == "core:person" else reverse(page)
    response = client.get(url)
    assert response.status_code == 200
    assert b"<h1" in response.content


@pytest.mark.parametrize("page", PAGES + ["core:person"])
def test_each_page_sends_an_anonymous_visitor_to_sign_in(cast, client, page):
    url = reverse(page, args=[cast.manager.pk]) if page == "core:person" else reverse(page)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------- the organisation's names


def test_renaming_the_service_manager_changes_the_people_and_audit_pages(cast, client):
    client.force_login(cast.executive)
    org = Organisation.current()
    response = client.post(reverse("core:organisation"), _names_form(org, service_manager_name="Product owner"))
    assert response.status_code == 302
    assert Organisation.current().service_manager_name == "Product owner"

    client.force_login(cast.outsider)
    people = client.get(reverse("core:people")).content.decode()
    assert "Product owner" in people and "service manager" not in people.lower()
    # The renaming event itself quotes the old name, as a record should; the service's
    # events are told in the new words.
    audit = client.get(reverse("core:audit"), {"service": cast.service.slug}).content.decode()
    assert "as product owner" in audit and "service manager" not in audit.lower()
    person = client.get(reverse("core:person", args=[cast.manager.pk])).content.decode()
    assert "Product owner" in person and "service manager" not in person.lower()


def test_the_organisation_page_shows_the_names_and_the_reserved_acts_to_everyone(cast, client):
    client.force_login(cast.outsider)
    response = client.get(reverse("core:organisation"))
    body = response.content.decode()
    assert response.context["form"] is None  # no form for someone who may not edit
    assert "Service manager" in body and "Our organisation" in body
    assert "Replace a service&#x27;s manager" in body or "Replace a service's manager" in body


def test_an_outsider_may_not_change_the_names(cast, client):
    client.force_login(cast.outsider)
    org = Organisation.current()
    events = AuditEvent.objects.count()
    response = client.post(reverse("core:organisation"), _names_form(org, executive_name="Boss"))
    assert response.status_code == 403
    assert "may change the organisation" in response.content.decode()
    assert Organisation.current().revision == org.revision
    assert Organisation.current().executive_name == "Executive"
    assert AuditEvent.objects.count() == events


def test_the_executive_team_may_change_the_names_on_the_executives_authority(cast, client):
    client.force_login(cast.exec_team)
    org = Organisation.current()
    response = client.post(reverse("core:organisation"), _names_form(org, model_name="Our model"))
    assert response.status_code == 302
    event = AuditEvent.objects.filter(verb="edit_terminology").get()
    assert event.actor == cast.exec_team and event.authority_person == cast.executive


def test_an_empty_executive_name_is_refused_naming_the_field_and_nothing_is_written(cast, client):
    client.force_login(cast.executive)
    org = Organisation.current()
    events = AuditEvent.objects.count()
    response = client.post(reverse("core:organisation"), _names_form(org, executive_name="  "))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["executive_name"] == ["Name of the executive cannot be empty."]
    assert "Name of the executive cannot be empty." in response.content.decode()
    assert Organisation.current().revision == org.revision
    assert AuditEvent.objects.count() == events


def test_a_stale_revision_is_refused_with_the_conflict_message(cast, client):
    org = Organisation.current()
    stale = _names_form(org, executive_name="Chief executive")
    edit_terminology(actor=cast.executive, values={"name": "Borough council"}, expected_revision=org.revision)
    client.force_login(cast.exec_team)
    response = client.post(reverse("core:organisation"), stale)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone else changed the names since you opened this page" in body
    assert "is now “Borough council”" in body
    assert Organisation.current().executive_name == "Executive"
    assert Organisation.current().revision == org.revision + 1


# ---------------------------------------------------------------- people


def test_people_page_shows_roles_areas_managed_services_and_teams(cast, client):
    client.force_login(cast.outsider)
    response = client.get(reverse("core:people"))
    body = response.content.decode()
    assert response.context["add_form"] is None
    for person in cast.by_role().values():
        assert person.name in body
    assert "finance" in body and "risk" in body  # Bea's areas of interest
    assert f'href="{reverse("network:service", args=[cast.service.slug])}"' in body
    assert "Senior user researcher" in body or "Senior user researcher".lower() in body.lower()


@pytest.mark.parametrize("role, expected", [
    ("executive", {"Ada Lovelace"}),
    ("executive_team", {"Bea Finance"}),
    ("service_manager", {"Max Manager", "Olu Other"}),
    ("team_member", {"Tia Team"}),
    ("", {"Ada Lovelace", "Bea Finance", "Max Manager", "Olu Other", "Tia Team", "Ola Outsider"}),
])
def test_people_page_filters_by_role(cast, client, role, expected):
    client.force_login(cast.outsider)
    response = client.get(reverse("core:people"), {"role": role})
    assert {p.name for p in response.context["page"].object_list} == expected


def test_people_page_searches_names_and_emails(cast, client):
    client.force_login(cast.outsider)
    by_name = client.get(reverse("core:people"), {"q": "lovelace"}).context["page"].object_list
    by_email = client.get(reverse("core:people"), {"q": "tia@"}).context["page"].object_list
    assert [p.name for p in by_name] == ["Ada Lovelace"]
    assert [p.name for p in by_email] == ["Tia Team"]


def test_people_page_answers_htmx_with_the_results_fragment(cast, client):
    client.force_login(cast.outsider)
    response = client.get(reverse("core:people"), {"q": "tia"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="people-results")
    body = response.content.decode()
    assert "<html" not in body and "Tia Team" in body


def test_the_executive_adds_a_person_from_the_people_page(cast, client):
    client.force_login(cast.executive)
    assert client.get(reverse("core:people")).context["add_form"] is not None
    events = AuditEvent.objects.count()
    response = client.post(reverse("core:people"), {
        "name": "Nia New", "email": "nia@example.org", "role": "member", "areas_of_interest": "", "password": "",
    })
    nia = Person.objects.get(email="nia@example.org")
    assert response.status_code == 302 and response["Location"] == reverse("core:person", args=[nia.pk])
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.latest("id").verb == "create_person"


def test_an_outsider_may_not_add_a_person(cast, client):
    client.force_login(cast.outsider)
    events, people = AuditEvent.objects.count(), Person.objects.count()
    response = client.post(reverse("core:people"), {"name": "Nia New", "email": "nia@example.org", "role": "member"})
    assert response.status_code == 403
    assert "may add people to the organisation" in response.content.decode()
    assert (AuditEvent.objects.count(), Person.objects.count()) == (events, people)


def test_adding_a_person_with_a_taken_email_names_the_field_and_writes_nothing(cast, client):
    client.force_login(cast.executive)
    events, people = AuditEvent.objects.count(), Person.objects.count()
    response = client.post(reverse("core:people"), {"name": "Ada Again", "email": "ADA@example.org", "role": "member"})
    assert response.status_code == 200
    form = response.context["add_form"]
    assert form.errors["email"] == ["ada@example.org is already in the organisation."]
    assert "open" in re.search(r"<details[^>]*>", response.content.decode()).group(0)  # the form stays open
    assert (AuditEvent.objects.count(), Person.objects.count()) == (events, people)


def test_people_page_query_count_does_not_grow_with_the_number_of_people(cast, client, settings):
    settings.PAGE_SIZE = 100
    client.force_login(cast.outsider)
    _grow_people(cast.executive, 3, 0)
    # session, signed-in person, organisation's names, count of people, a page of people,
    # the services they manage, their current team places: 7 whatever the number of people
    small = _queries(client, reverse("core:people"))
    _grow_people(cast.executive, 25, 100)
    assert Person.objects.count() > 30
    assert _queries(client, reverse("core:people")) == small


# ---------------------------------------------------------------- a person


def test_person_page_shows_role_appointments_teams_and_recent_activity(cast, client):
    client.force_login(cast.outsider)
    body = client.get(reverse("core:person", args=[cast.team_member.pk])).content.decode()
    assert "Parking permits" in body and "User researcher" in body and "Senior" in body
    manager_page = client.get(reverse("core:person", args=[cast.manager.pk]))
    assert [a.service for a in manager_page.context["current_appointments"]] == [cast.service]
    assert manager_page.context["events"][0].verb == "add_team_member"
    exec_page = client.get(reverse("core:person", args=[cast.executive.pk]))
    assert len(exec_page.context["events"]) <= 20


def test_tokens_are_shown_only_on_your_own_page(cast, client):
    issue_api_token(actor=cast.manager, person=cast.manager, label="Reporting script")
    client.force_login(cast.executive)
    other = client.get(reverse("core:person", args=[cast.manager.pk])).content.decode()
    assert "Reporting script" not in other and "Issue a token" not in other
    client.force_login(cast.manager)
    own = client.get(reverse("core:person", args=[cast.manager.pk])).content.decode()
    assert "Reporting script" in own and "Issue a token" in own


def test_issuing_a_token_shows_it_once_and_it_authenticates(cast, client):
    client.force_login(cast.manager)
    url = reverse("core:token_issue", args=[cast.manager.pk])
    response = client.post(url, {"label": "Reporting script", "days": "30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = re.search(r'<code class="secret"[^>]*>(osom_[^<]+)</code>', response.content.decode()).group(1)
    assert ApiToken.authenticate(raw) == cast.manager
    token = ApiToken.objects.get(person=cast.manager)
    assert token.label == "Reporting script"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert AuditEvent.objects.filter(verb="issue_api_token", actor=cast.manager).count() == 1
    again = client.get(reverse("core:person", args=[cast.manager.pk])).content.decode()
    assert raw not in again and token.prefix in again


def test_nobody_issues_a_token_for_someone_else(cast, client):
    client.force_login(cast.executive)
    response = client.post(reverse("core:token_issue", args=[cast.manager.pk]), {"label": "", "days": "30"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_bad_token_lifetime_is_refused_naming_the_field(cast, client):
    client.force_login(cast.manager)
    response = client.post(reverse("core:token_issue", args=[cast.manager.pk]), {"label": "", "days": "9999"})
    assert response.status_code == 200
    assert "days" in response.context["token_form"].errors
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_working(cast, client):
    token, raw = issue_api_token(actor=cast.manager, person=cast.manager)
    client.force_login(cast.manager)
    response = client.post(reverse("core:token_revoke", args=[cast.manager.pk, token.pk]))
    assert response.status_code == 302
    assert ApiToken.authenticate(raw) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    page = client.get(reverse("core:person", args=[cast.manager.pk])).content.decode()
    assert "Revoked" in page
    # revoking it twice is a message, not an error page
    again = client.post(reverse("core:token_revoke", args=[cast.manager.pk, token.pk]), follow=True)
    assert "already revoked" in again.content.decode()


def test_someone_else_may_not_revoke_your_token(cast, client):
    token, raw = issue_api_token(actor=cast.manager, person=cast.manager)
    client.force_login(cast.outsider)
    response = client.post(reverse("core:token_revoke", args=[cast.manager.pk, token.pk]))
    assert response.status_code == 403
    assert ApiToken.authenticate(raw) == cast.manager


# ---------------------------------------------------------------- audit log


def test_audit_log_shows_who_did_what_on_whose_authority(cast, client):
    create_person(actor=cast.exec_team, email="nia@example.org", name="Nia New")
    client.force_login(cast.outsider)
    response = client.get(reverse("core:audit"))
    body = response.content.decode()
    assert "Added Nia New" in body
    assert "on the executive’s authority (Ada Lovelace)" in body
    assert f'href="{reverse("network:service", args=[cast.service.slug])}"' in body


def test_audit_log_filters_by_service_person_verb_and_dates(cast, client):
    client.force_login(cast.outsider)

    def verbs(**params):
        response = client.get(reverse("core:audit"), params)
        assert response.status_code == 200
        return {e.verb for e in response.context["page"].object_list}

    assert verbs(service=cast.service.slug) == {"establish_service", "add_team_member"}
    assert verbs(service="identity") == {"establish_service"}
    assert verbs(service="Parking Permits") == {"establish_service", "add_team_member"}
    assert verbs(person="max@example.org") == {"add_team_member"}
    assert verbs(person=str(cast.manager.pk)) == {"add_team_member"}
    assert verbs(verb="create_person") == {"create_person"}
    today = timezone.localdate()
    assert "create_person" in verbs(since=today.isoformat(), until=today.isoformat())
    assert verbs(until=(today - timedelta(days=1)).isoformat()) == set()
    assert verbs(since=(today + timedelta(days=1)).isoformat()) == set()
    # the verb select offers only the verbs present
    form = client.get(reverse("core:audit")).context["form"]
    assert {v for v, _ in form.fields["verb"].choices if v} == set(AuditEvent.objects.values_list("verb", flat=True))


def test_audit_log_query_count_does_not_grow_with_the_number_of_events(cast, client, settings):
    settings.PAGE_SIZE = 200
    client.force_login(cast.outsider)
    # session, signed-in person, verbs present, count of events, a page of events with
    # actor, authority and service joined in, organisation's names: 6 whatever the number
    small = _queries(client, reverse("core:audit"))
    _grow_people(cast.executive, 15, 0)
    create_person(actor=cast.exec_team, email="nia@example.org", name="Nia New")
    assert AuditEvent.objects.count() > 40
    assert _queries(client, reverse("core:audit")) == small


# ---------------------------------------------------------------- the helper other pages use


class _Form(forms.Form):
    name = forms.CharField(required=False)
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _request(user):
    request = RequestFactory().post("/")
    request.user = user
    request.session = {}
    request._messages = CookieStorage(request)
    return request


def test_apply_action_returns_what_the_action_returned(cast):
    form = _Form({"name": "x"})
    assert apply_action(_request(cast.executive), form, lambda: 42) == (True, 42)


def test_apply_action_turns_not_allowed_into_a_403_page(cast):
    def refuse():
        raise NotAllowed("Only the Executive may do this.")

    ok, response = apply_action(_request(cast.outsider), _Form({"name": "x"}), refuse)
    assert not ok and response.status_code == 403
    assert "Only the Executive may do this." in response.content.decode()


def test_apply_action_puts_errors_on_named_fields_and_the_rest_at_the_top(cast):
    def invalid():
        raise InvalidInput.collect({"name": ["Give a name."], "elsewhere": ["Something else is wrong."]})

    form = _Form({"name": ""})
    assert apply_action(_request(cast.executive), form, invalid) == (False, None)
    assert form.errors["name"] == ["Give a name."]
    assert form.non_field_errors() == ["Something else is wrong."]


def test_apply_action_puts_a_conflict_at_the_top_with_its_changes(cast):
    def conflict():
        raise Conflict("Someone changed it.", field="revision", changes=["Name is now “y”"])

    form = _Form({"name": "x", "revision": "1"})
    assert apply_action(_request(cast.executive), form, conflict) == (False, None)
    assert form.non_field_errors() == ["Someone changed it."]
    assert form.conflict_changes == ["Name is now “y”"]


def test_apply_action_does_not_call_the_action_for_an_invalid_form(cast):
    called = []
    form = _Form({"revision": "not a number"})
    assert apply_action(_request(cast.executive), form, lambda: called.append(1)) == (False, None)
    assert called == []


def test_odd_ids_in_filters_are_no_match_not_an_error(cast, client):
    client.force_login(cast.outsider)
    for value in ("²", "99999999999999999999999", "-1"):
        assert client.get(reverse("core:audit"), {"person": value}).status_code == 200
        assert client.get(reverse("network:list"), {"manager": value}).status_code == 200


def _pager(body: str) -> str:
    match = re.search(r'<nav class="pagination" aria-label="([^"]+)">(.*?)</nav>', body, re.DOTALL)
    assert match, "no pager on the page"
    return match.group(1) + " | " + re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(2))).strip()


def test_the_lists_share_one_pager_that_keeps_the_filters_and_says_newer_or_older_for_a_log(cast, client, settings):
    settings.PAGE_SIZE = 2
    for n in range(4):
        create_person(actor=cast.exec_team, email=f"p{n}@example.org", name=f"Person {n}")
    client.force_login(cast.outsider)
    pages = (AuditEvent.objects.filter(verb="create_person").count() + 1) // 2
    first = client.get(reverse("core:audit"), {"verb": "create_person"}).content.decode()
    middle = client.get(reverse("core:audit"), {"verb": "create_person", "page": 2}).content.decode()
    last = client.get(reverse("core:audit"), {"verb": "create_person", "page": pages}).content.decode()
    # the log is newest first: its pages go back in time
    assert pages >= 3
    assert _pager(first) == f"Pages of the audit log | Page 1 of {pages} Older →"
    assert _pager(middle) == f"Pages of the audit log | ← Newer Page 2 of {pages} Older →"
    assert _pager(last) == f"Pages of the audit log | ← Newer Page {pages} of {pages}"
    # each link keeps the filter
    links = re.findall(r'<a href="([^"]+)" rel="(prev|next)">', middle)
    assert sorted(rel for _, rel in links) == ["next", "prev"]
    assert all("verb=create_person" in href for href, _ in links)
    # a list that is not a log: previous and next
    people = client.get(reverse("core:people"), {"page": 2}).content.decode()
    assert _pager(people).startswith("Pages of people | ← Previous Page 2 of ")
    # one page: no pager at all
    settings.PAGE_SIZE = 100
    assert '<nav class="pagination"' not in client.get(reverse("core:audit")).content.decode()
