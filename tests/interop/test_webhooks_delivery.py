"""Sending webhook deliveries to a real HTTP receiver on the loopback interface, run in
a thread: the signature a receiver can check, retries with back-off after a failure or
a silence, the log of every attempt, and redirects that are not followed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from osom.interop import webhook_actions, webhooks
from osom.interop.models import WebhookAttempt, WebhookDelivery

# ---------------------------------------------------------------- a receiver that answers as told


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Receiver:
    """``answers``: what to answer, in turn — a status code, or ("wait", seconds) to say
    nothing for that long; the last answer is repeated once the list is used up."""

    answers: list = field(default_factory=lambda: [200])
    location: str = ""
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/osom"

    def next_answer(self):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def start(answers=None, *, location: str = "") -> Receiver:
    receiver = Receiver(answers=list(answers or [200]), location=location)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = receiver.next_answer()
            if isinstance(answer, tuple):
                time.sleep(answer[1])
                answer = 200
            self.send_response(answer)
            if receiver.location:
                self.send_header("Location", receiver.location)
            text = b"ok" if answer < 300 else b"the receiver is not well"
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            try:
                self.wfile.write(text)
            except OSError:  # the sender gave up waiting
                pass

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def stop(receiver: Receiver) -> None:
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver():
    """Answers 200 unless a test sets ``receiver.answers``."""
    running = start([200])
    yield running
    stop(running)


# ---------------------------------------------------------------- builders

ALL_EVENTS = list(webhooks.EVENTS)


def listening(cast, url: str, events=None, name: str = "Service catalogue"):
    """An endpoint added by the executive through the action; returns it and its secret."""
    return webhook_actions.add_webhook(actor=cast.executive, name=name, url=url, events=events or ALL_EVENTS)


def one_event(event: str = "coe.published", data: dict | None = None) -> list[WebhookDelivery]:
    """An event written as an action writes it: inside a transaction."""
    with transaction.atomic():
        return webhooks.emit(event, data if data is not None else {"coe": {"id": 7, "title": "Renewals failed"}})


def soon() -> timezone.datetime:
    """A fixed time just after now, whole seconds: every delivery written now is due at it."""
    return (timezone.now() + timedelta(seconds=5)).replace(microsecond=0)


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Computed here from the documented rule, not with the code under test."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- signing


def test_a_delivery_is_posted_as_signed_json_a_receiver_can_check(cast, receiver):
    endpoint, secret = listening(cast, receiver.url)
    [delivery] = one_event("coe.published", {"coe": {"id": 7, "title": "Renewals failed"}})
    now = soon()
    assert webhooks.deliver_due(now) == {"delivered": 1, "retrying": 0, "failed": 0}

    [request] = receiver.received
    headers = request.headers
    assert request.path == "/hooks/osom"
    assert headers["content-type"].startswith("application/json")
    assert headers["x-osom-event"] == "coe.published"
    assert headers["x-osom-delivery"] == str(delivery.event_id)
    assert headers["x-osom-timestamp"] == str(int(now.timestamp()))
    assert headers["x-osom-signature"] == expected_signature(secret, headers["x-osom-timestamp"], request.body)
    body = json.loads(request.body)
    assert body["event"] == "coe.published" and body["id"] == str(delivery.event_id)
    assert body["data"] == {"coe": {"id": 7, "title": "Renewals failed"}}
    assert webhooks.verify_signature(secret, headers["x-osom-timestamp"], request.body, headers["x-osom-signature"])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.delivered_at) == (
        "delivered", 1, 200, now)
    assert delivery.next_attempt_at is None


def test_verify_signature_refuses_a_changed_body_a_wrong_secret_or_an_old_timestamp():
    secret, stamp, body = "whsec_test", "1767225600", b'{"event":"coe.published"}'
    good = expected_signature(secret, stamp, body)
    assert webhooks.verify_signature(secret, stamp, body, good)
    assert webhooks.verify_signature(secret, stamp, body.decode(), good), "a body given as text is the same body"
    assert not webhooks.verify_signature(secret, stamp, body + b" ", good)
    assert not webhooks.verify_signature("whsec_other", stamp, body, good)
    assert not webhooks.verify_signature(secret, "1767225601", body, good)
    assert not webhooks.verify_signature(secret, stamp, body, good.replace("sha256=", "sha1="))
    assert not webhooks.verify_signature(secret, stamp, body, "")
    assert webhooks.verify_signature(secret, stamp, body, good, tolerance=300, now=1767225600 + 299)
    assert not webhooks.verify_signature(secret, stamp, body, good, tolerance=300, now=1767225600 + 301)
    assert not webhooks.verify_signature(secret, "yesterday", body, good, tolerance=300)


def test_each_endpoint_is_signed_with_its_own_secret_and_told_the_same_event_id(cast, receiver):
    first, first_secret = listening(cast, receiver.url, name="Catalogue")
    second, second_secret = listening(cast, receiver.url + "?copy=1", name="Chat")
    assert first_secret != second_secret
    deliveries = one_event()
    assert len({d.event_id for d in deliveries}) == 1
    webhooks.deliver_due(soon())
    by_path = {r.path: r for r in receiver.received}
    for path, secret in (("/hooks/osom", first_secret), ("/hooks/osom?copy=1", second_secret)):
        r = by_path[path]
        assert r.headers["x-osom-signature"] == expected_signature(secret, r.headers["x-osom-timestamp"], r.body)
        assert r.headers["x-osom-delivery"] == str(deliveries[0].event_id)


# ---------------------------------------------------------------- retries


def test_a_failing_receiver_is_tried_again_after_the_back_off_and_every_attempt_is_logged(cast, receiver):
    receiver.answers = [500, 200]
    listening(cast, receiver.url)
    [delivery] = one_event()
    t0 = soon()

    assert webhooks.deliver_due(t0) == {"delivered": 0, "retrying": 1, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == t0 + timedelta(minutes=1)
    assert "500" in delivery.last_error

    # not yet due: nothing is sent
    assert webhooks.deliver_due(t0 + timedelta(seconds=59)) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(receiver.received) == 1

    assert webhooks.deliver_due(t0 + timedelta(minutes=1)) == {"delivered": 1, "retrying": 0, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        "delivered", 2, 200, "")
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.at, a.status_code) for a in log] == [(1, t0, 500), (2, t0 + timedelta(minutes=1), 200)]
    assert "500" in log[0].error and log[1].error == ""
    # the same event both times, each time signed at the time it was sent
    assert [r.headers["x-osom-delivery"] for r in receiver.received] == [str(delivery.event_id)] * 2
    assert [r.headers["x-osom-timestamp"] for r in receiver.received] == [
        str(int(t0.timestamp())), str(int((t0 + timedelta(minutes=1)).timestamp()))]


def test_a_delivery_fails_after_the_last_wait_and_can_be_sent_again_by_hand(cast, receiver):
    receiver.answers = [503]
    listening(cast, receiver.url)
    [delivery] = one_event()
    at = soon()
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12)]
    for n, wait in enumerate(waits, start=1):
        assert webhooks.deliver_due(at)["retrying"] == 1
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.status, delivery.next_attempt_at) == (n, "pending", at + wait)
        at += wait
    assert webhooks.deliver_due(at) == {"delivered": 0, "retrying": 0, "failed": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 6, None)
    assert delivery.attempt_log.count() == 6 and len(receiver.received) == 6
    # a failed delivery is not tried again by itself
    assert webhooks.deliver_due(at + timedelta(days=7)) == {"delivered": 0, "retrying": 0, "failed": 0}

    receiver.answers = [200]
    webhook_actions.redeliver(actor=cast.executive, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert webhooks.deliver_due(timezone.now() + timedelta(seconds=1))["delivered"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 7)
    assert len({r.headers["x-osom-delivery"] for r in receiver.received}) == 1, "sent again as the same event"


def test_a_receiver_that_never_answers_within_the_timeout_is_a_failed_attempt(cast, receiver):
    receiver.answers = [("wait", 3)]
    listening(cast, receiver.url)
    [delivery] = one_event()
    t0 = soon()
    # the receiver waits 3 s; the attempt records that it gave up at the timeout
    assert webhooks.deliver_due(t0, timeout=0.5) == {"delivered": 0, "retrying": 1, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == "No answer within 0.5 seconds."
    assert delivery.next_attempt_at == t0 + timedelta(minutes=1)
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code is None and attempt.duration_ms >= 400


def test_a_receiver_that_is_not_there_is_a_failed_attempt(cast, receiver):
    url = receiver.url
    stop(receiver)  # nothing listens on the port any more
    receiver.server = start([200]).server  # the fixture stops this one instead
    listening(cast, url)
    [delivery] = one_event()
    assert webhooks.deliver_due(soon(), timeout=2)["retrying"] == 1
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and delivery.last_error.startswith("Could not connect")


def test_a_redirect_is_not_followed_to_another_host(cast, receiver):
    receiver.answers = [307]
    receiver.location = "http://elsewhere.invalid/steal"
    listening(cast, receiver.url)
    [delivery] = one_event()
    assert webhooks.deliver_due(soon())["retrying"] == 1
    delivery.refresh_from_db()
    assert delivery.last_status_code == 307 and delivery.status == "pending"
    assert "elsewhere.invalid" in delivery.last_error and "not followed" in delivery.last_error
    assert len(receiver.received) == 1


def test_nothing_more_is_sent_to_a_removed_endpoint(cast, receiver):
    endpoint, _ = listening(cast, receiver.url)
    [delivery] = one_event()
    webhook_actions.remove_webhook(actor=cast.executive, endpoint=endpoint)
    assert one_event() == [], "a removed endpoint is told of no new event"
    assert webhooks.deliver_due(soon()) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0


def test_the_sender_takes_at_most_limit_deliveries_the_longest_waiting_first(cast, receiver):
    listening(cast, receiver.url)
    first = one_event(data={"n": 1})[0]
    one_event(data={"n": 2})
    one_event(data={"n": 3})
    WebhookDelivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert webhooks.deliver_due(soon(), limit=2)["delivered"] == 2
    assert json.loads(receiver.received[0].body)["data"] == {"n": 1}
    assert WebhookDelivery.objects.filter(status="pending").count() == 1


def test_a_delivery_another_sender_has_taken_is_not_sent_twice(cast, receiver, monkeypatch):
    listening(cast, receiver.url)
    [delivery] = one_event()
    real_claim = webhooks._claim

    def taken_meanwhile(d, now, timeout):
        # another sender claims the row between this one reading it and claiming it
        WebhookDelivery.objects.filter(pk=d.pk).update(next_attempt_at=now + timedelta(minutes=2))
        return real_claim(d, now, timeout)

    monkeypatch.setattr(webhooks, "_claim", taken_meanwhile)
    assert webhooks.deliver_due(soon()) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert receiver.received == []
