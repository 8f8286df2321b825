"""The executive's webhook pages, API and commands: each works for the executive (and its
team, acting in its name) and is refused to everyone else; a list makes the same number
of queries however many webhooks, deliveries and services there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.cli import main
from osom.interop import webhook_actions as actions
from osom.interop import webhooks
from osom.interop.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from .. import factories
from ..api.conftest import ApiClient, token_for

URL = "https://hooks.example.org/osom"
EXECUTIVES = ["executive", "exec_team"]
OTHERS = ["manager", "other_manager", "team_member", "outsider"]


def added(cast, name="Service catalogue", events=("coe.published", "mandate.issued")):
    return actions.add_webhook(actor=cast.executive, name=name, url=URL, events=list(events))


def failed(endpoint) -> WebhookDelivery:
    [delivery] = [d for d in webhooks.emit("coe.published", {"coe": {"id": 3, "title": "Renewals"}})
                  if d.endpoint_id == endpoint.pk]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=6, last_status_code=500,
                                                          last_error="HTTP 500: the receiver is not well")
    WebhookAttempt.objects.create(delivery=delivery, number=6, at=delivery.created_at, status_code=500,
                                  error="HTTP 500: the receiver is not well", duration_ms=12)
    return delivery


def signed_in(cast, role: str) -> Client:
    client = Client()
    client.force_login(cast.by_role()[role])
    return client


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("role", EXECUTIVES)
def test_the_executive_sees_the_list_an_endpoint_and_its_log(cast, role):
    endpoint, secret = added(cast)
    delivery = failed(endpoint)
    client = signed_in(cast, role)
    page = client.get(reverse("interop:webhooks"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Service catalogue" in text and URL in text and "1 failed" in text
    assert secret not in text, "the secret is shown only when the webhook is added"

    page = client.get(reverse("interop:webhook", args=[endpoint.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert str(delivery.event_id) in text and "HTTP 500: the receiver is not well" in text
    assert reverse("interop:delivery_redeliver", args=[delivery.pk]) in text
    assert secret not in text and endpoint.secret_hint in text
    assert client.get(reverse("interop:webhook", args=[endpoint.pk]), {"status": "delivered"}).content.decode().count(
        str(delivery.event_id)) == 0
    assert client.get(reverse("interop:webhook_edit", args=[endpoint.pk])).status_code == 200
    assert client.get(reverse("interop:webhook_add")).status_code == 200


@pytest.mark.parametrize("role", OTHERS)
def test_everyone_else_is_refused_every_page_and_every_button(cast, role):
    endpoint, _ = added(cast)
    delivery = failed(endpoint)
    client = signed_in(cast, role)
    for name, args in (("interop:webhooks", []), ("interop:webhook_add", []), ("interop:webhook", [endpoint.pk]),
                       ("interop:webhook_edit", [endpoint.pk])):
        page = client.get(reverse(name, args=args))
        assert page.status_code == 403, name
        assert "Only the Executive may manage webhooks." in page.content.decode()
    before = (list(WebhookEndpoint.objects.values()), list(WebhookDelivery.objects.values()))
    assert client.post(reverse("interop:webhook_add"), {"name": "Mine", "url": URL,
                                                         "events": ["coe.published"]}).status_code == 403
    assert client.post(reverse("interop:webhook_edit", args=[endpoint.pk]), {"name": "Mine", "url": URL,
                                                                            "events": ["coe.published"]}).status_code == 403
    assert client.post(reverse("interop:webhook_remove", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("interop:delivery_redeliver", args=[delivery.pk])).status_code == 403
    assert (list(WebhookEndpoint.objects.values()), list(WebhookDelivery.objects.values())) == before


def test_nobody_signed_in_is_sent_to_sign_in(cast):
    page = Client().get(reverse("interop:webhooks"))
    assert page.status_code in (302, 403)
    if page.status_code == 302:
        assert reverse("login") in page["Location"]


def test_adding_shows_the_secret_once(cast):
    client = signed_in(cast, "executive")
    page = client.post(reverse("interop:webhook_add"), {"name": "Chat", "url": URL,
                                                        "events": ["mandate.issued", "coe.published"]})
    assert page.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    text = page.content.decode()
    assert endpoint.secret in text and "shown only this once" in text
    assert page["Cache-Control"] == "no-store"
    assert endpoint.events == ["coe.published", "mandate.issued"]
    assert endpoint.secret not in client.get(reverse("interop:webhook", args=[endpoint.pk])).content.decode()


def test_a_bad_url_and_no_events_come_back_on_their_fields(cast):
    client = signed_in(cast, "executive")
    page = client.post(reverse("interop:webhook_add"), {"name": "Chat", "url": "ftp://files.example.org"})
    assert page.status_code == 200
    form = page.context["form"]
    assert "http" in form.errors["url"][0] and "at least one" in form.errors["events"][0]
    assert WebhookEndpoint.objects.count() == 0


def test_editing_removing_and_sending_again_from_the_pages(cast):
    endpoint, _ = added(cast)
    delivery = failed(endpoint)
    client = signed_in(cast, "exec_team")
    page = client.post(reverse("interop:webhook_edit", args=[endpoint.pk]),
                       {"name": "Catalogue", "url": URL + "/v2", "events": ["report.published"], "revision": 1})
    assert page.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.url, endpoint.events) == ("Catalogue", URL + "/v2", ["report.published"])
    stale = client.post(reverse("interop:webhook_edit", args=[endpoint.pk]),
                        {"name": "Old", "url": URL, "events": ["report.published"], "revision": 1})
    assert stale.status_code == 200 and "changed by someone else" in stale.content.decode()

    assert client.post(reverse("interop:delivery_redeliver", args=[delivery.pk])).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"

    assert client.post(reverse("interop:webhook_remove", args=[endpoint.pk])).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert "Removed" in client.get(reverse("interop:webhook", args=[endpoint.pk])).content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _grow(cast, start: int, stop: int) -> WebhookEndpoint:
    """More services, webhooks and failed deliveries (each with an attempt), numbered
    ``start`` to ``stop``; the first webhook is told of every delivery."""
    for i in range(start, stop):
        factories.service(cast.executive, f"Service {i}", manager=cast.other_manager)
        added(cast, name=f"Hook {i}")
    endpoint = WebhookEndpoint.objects.order_by("pk").first()
    for _ in range(start, stop):
        failed(endpoint)
    return endpoint


def test_the_lists_make_the_same_queries_however_many_webhooks_deliveries_and_services(cast):
    """Each list: the session and person, the rows of one page and their count, and the
    attempts of the page's deliveries in one query — at 2 and at 20 of everything."""
    client = signed_in(cast, "executive")
    api = ApiClient(token_for(cast.executive))
    counts = []
    for start, stop in ((0, 2), (2, 20)):
        endpoint = _grow(cast, start, stop)
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == stop
        sizes = [_queries(client, reverse("interop:webhooks")),
                 _queries(client, reverse("interop:webhook", args=[endpoint.pk]))]
        for path in ("/webhooks", f"/webhooks/{endpoint.pk}/deliveries"):
            with CaptureQueriesContext(connection) as queries:
                answer = api.get(path)
            assert answer.status_code == 200 and answer.json()["count"] >= stop
            sizes.append(len(queries))
        counts.append(sizes)
    assert counts[0] == counts[1], counts


# ---------------------------------------------------------------- API


@pytest.mark.parametrize("role", EXECUTIVES)
def test_the_api_for_the_executive(cast, role):
    api = ApiClient(token_for(cast.by_role()[role]))
    made = api.post("/webhooks", {"name": "Chat", "url": URL, "events": ["coe.published"]})
    assert made.status_code == 201, made.json()
    body = made.json()
    secret, webhook_id = body["secret"], body["id"]
    assert secret.startswith("whsec_") and body["secret_hint"] == secret[:10] + "…"
    assert body["events"] == ["coe.published"] and body["active"] is True and body["revision"] == 1

    listed = api.get("/webhooks").json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    assert secret not in str(api.get(f"/webhooks/{webhook_id}").json())

    changed = api.put(f"/webhooks/{webhook_id}", {"name": "Chat", "url": URL, "events": ["mandate.issued"],
                                                  "revision": 1})
    assert changed.status_code == 200 and changed.json()["events"] == ["mandate.issued"]
    stale = api.put(f"/webhooks/{webhook_id}", {"name": "Chat", "url": URL, "events": ["coe.published"],
                                                "revision": 1})
    assert stale.status_code == 409 and stale.json()["field"] == "revision"

    endpoint = WebhookEndpoint.objects.get(pk=webhook_id)
    actions.edit_webhook(actor=cast.executive, endpoint=endpoint, name="Chat", url=URL, events=["coe.published"])
    delivery = failed(endpoint)
    log = api.get(f"/webhooks/{webhook_id}/deliveries").json()
    assert log["count"] == 1
    item = log["items"][0]
    assert (item["event"], item["status"], item["event_id"]) == ("coe.published", "failed", str(delivery.event_id))
    assert item["payload"] == {"coe": {"id": 3, "title": "Renewals"}}
    assert item["attempt_log"][0]["status_code"] == 500
    assert api.get(f"/webhooks/{webhook_id}/deliveries", status="delivered").json()["count"] == 0

    again = api.post(f"/webhook-deliveries/{delivery.pk}/redeliver")
    assert again.status_code == 200 and again.json()["status"] == "pending"
    assert api.post(f"/webhook-deliveries/{delivery.pk}/redeliver").status_code == 409

    gone = api.post(f"/webhooks/{webhook_id}/deactivate")
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert api.post(f"/webhooks/{webhook_id}/deactivate").status_code == 409


@pytest.mark.parametrize("body,field", [
    ({"name": "Chat", "url": "ftp://x.example.org", "events": ["coe.published"]}, "url"),
    ({"name": "Chat", "url": URL, "events": ["coe.deleted"]}, "events"),
    ({"name": "Chat", "url": URL, "events": []}, "events"),
    ({"name": "", "url": URL, "events": ["coe.published"]}, "name"),
])
def test_the_api_refuses_bad_input_naming_the_field(cast, body, field):
    api = ApiClient(token_for(cast.executive))
    answer = api.post("/webhooks", body)
    assert answer.status_code == 400 and answer.json()["field"] == field
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("role", OTHERS)
def test_the_api_refuses_everyone_else(cast, role):
    endpoint, _ = added(cast)
    delivery = failed(endpoint)
    api = ApiClient(token_for(cast.by_role()[role]))
    calls = [("GET", "/webhooks", None), ("POST", "/webhooks", {"name": "x", "url": URL, "events": ["coe.published"]}),
             ("GET", f"/webhooks/{endpoint.pk}", None),
             ("PUT", f"/webhooks/{endpoint.pk}", {"name": "x", "url": URL, "events": ["coe.published"]}),
             ("POST", f"/webhooks/{endpoint.pk}/deactivate", {}), ("GET", f"/webhooks/{endpoint.pk}/deliveries", None),
             ("POST", f"/webhook-deliveries/{delivery.pk}/redeliver", {})]
    for method, path, body in calls:
        answer = api.call(method, path, body)
        assert answer.status_code == 403, (method, path)
        assert answer.json()["message"] == "Only the Executive may manage webhooks."
    # an id that does not exist is refused the same way: nobody else learns what exists
    assert api.get("/webhooks/999999").status_code == 403
    assert WebhookEndpoint.objects.get().name == "Service catalogue" and WebhookEndpoint.objects.get().active


def test_the_api_says_what_is_not_there(cast):
    api = ApiClient(token_for(cast.executive))
    assert api.get("/webhooks/999999").json()["field"] == "webhook_id"
    assert api.post("/webhook-deliveries/999999/redeliver").status_code == 404


# ---------------------------------------------------------------- commands


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_commands_list_log_and_deliver(cast, capsys):
    endpoint, _ = added(cast)
    failed(endpoint)
    code, out, _ = _run(capsys, "webhooks", "list")
    assert code == 0 and "Service catalogue" in out and URL in out and "0/0/1" in out
    code, out, _ = _run(capsys, "webhooks", "log", str(endpoint.pk))
    assert code == 0 and "coe.published" in out and "failed, 6 attempts" in out and "HTTP 500" in out
    code, out, _ = _run(capsys, "webhooks", "log", str(endpoint.pk), "--status", "pending")
    assert code == 0 and "0 deliveries" in out
    code, out, _ = _run(capsys, "webhooks", "deliver")
    assert code == 0 and out.strip() == "0 delivered, 0 to retry, 0 failed"


def test_the_log_of_a_webhook_that_is_not_there_is_one_line_and_code_2(cast, capsys):
    code, _, err = _run(capsys, "webhooks", "log", "999999")
    assert code == 2 and err.strip() == "osom: There is no webhook with id 999999. (webhook)"


def test_deliver_loop_keeps_looking_until_stopped(cast, capsys, monkeypatch):
    calls = []

    def fake_deliver_due(*, limit, timeout):
        calls.append((limit, timeout))
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C while it works
        return {"delivered": len(calls) - 1, "retrying": 0, "failed": 0}

    monkeypatch.setattr(webhooks, "deliver_due", fake_deliver_due)
    code, out, err = _run(capsys, "webhooks", "deliver", "--loop", "--interval", "0.1", "--limit", "7",
                          "--timeout", "2")
    assert code == 0 and len(calls) == 3 and calls[0] == (7, 2.0)
    assert "every 0.1 s" in out and "1 delivered, 0 to retry, 0 failed" in out
    assert out.count("delivered,") == 1, "a look that found nothing prints nothing"
    assert "Stopped." in err


@pytest.mark.parametrize("argv", [["--interval", "0"], ["--limit", "-1"], ["--timeout", "soon"]])
def test_deliver_refuses_a_bad_number(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(["webhooks", "deliver", *argv])
    assert stopped.value.code == 2
    assert "webhooks deliver" in capsys.readouterr().err
