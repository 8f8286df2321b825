"""Every write to the webhooks, as every role of the cast (design habit 8), and bad input.

The table says who may do what, written by hand from the policy (``manage_webhooks``:
the executive, or its team acting in its name): allowed, the action writes and one
audit event records it; refused, ``NotAllowed`` with a sentence naming who may, and
nothing written. Bad input names the field and writes nothing."""

from __future__ import annotations

import inspect

import pytest

from osom.core.errors import Conflict, InvalidInput, NotAllowed
from osom.core.models import AuditEvent
from osom.interop import webhook_actions as actions
from osom.interop import webhooks
from osom.interop.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from ..lifecycle.test_permissions import Row
from ..network import test_permissions as network
from ..network.test_permissions import check_cell

ROLES = network.ROLES
EXEC = network.EXEC
EXECUTIVE_ONLY = {"executive": EXEC, "exec_team": EXEC}
EVERY_TABLE = [WebhookEndpoint, WebhookDelivery, WebhookAttempt, AuditEvent]
# a receiver's credential may be part of its URL: the audit log, open to everyone, keeps
# only the scheme and host
URL = "https://hooks.example.org/osom/T0KEN-in-the-path"


def snapshot() -> dict[str, list[dict]]:
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


def added(c, *, events=("coe.published",), name="Service catalogue") -> WebhookEndpoint:
    return actions.add_webhook(actor=c.executive, name=name, url=URL, events=list(events))[0]


def failed_delivery(c) -> WebhookDelivery:
    """A delivery whose every attempt failed (the attempts themselves are tested with a
    real receiver in test_webhooks_delivery)."""
    added(c)
    [delivery] = webhooks.emit("coe.published", {"coe": {"id": 1}})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=6, next_attempt_at=None)
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)


def _add(c):
    return lambda actor: actions.add_webhook(actor=actor, name="Chat", url=URL, events=["mandate.issued"])


def _edit(c):
    endpoint = added(c)
    return lambda actor: actions.edit_webhook(actor=actor, endpoint=endpoint, name="Catalogue", url=URL + "/v2",
                                              events=["coe.published", "report.published"],
                                              expected_revision=endpoint.revision)


def _remove(c):
    endpoint = added(c)
    return lambda actor: actions.remove_webhook(actor=actor, endpoint=endpoint)


def _redeliver(c):
    delivery = failed_delivery(c)
    return lambda actor: actions.redeliver(actor=actor, delivery=delivery)


MATRIX: dict[str, Row] = {
    "add_webhook": Row("add_webhook", "add_webhook", _add, EXECUTIVE_ONLY, ("executive",),
                       policy_acts=("manage_webhooks",)),
    "edit_webhook": Row("edit_webhook", "edit_webhook", _edit, EXECUTIVE_ONLY, ("executive",),
                        policy_acts=("manage_webhooks",)),
    "remove_webhook": Row("remove_webhook", "remove_webhook", _remove, EXECUTIVE_ONLY, ("executive",),
                          policy_acts=("manage_webhooks",)),
    "redeliver": Row("redeliver", "redeliver_webhook", _redeliver, EXECUTIVE_ONLY, ("executive",),
                     policy_acts=("manage_webhooks",)),
}
CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def test_the_matrix_covers_every_write_to_the_webhooks():
    writes = {name for name in actions.__all__ if inspect.isfunction(getattr(actions, name))}
    assert writes == {row.action for row in MATRIX.values()}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_webhook_write(cast, act, role):
    event = check_cell(cast, MATRIX[act], role, snapshot)
    if event is not None:
        audited = str(event.after) + str(event.before) + event.summary + event.object_label
        assert "whsec_" not in audited, "the secret is never audited"
        assert "T0KEN" not in audited, "nor the path of the URL"


def test_nobody_signed_in_may_add_a_webhook(db):
    with pytest.raises(NotAllowed, match="sign in"):
        actions.add_webhook(actor=None, name="Chat", url=URL, events=["coe.published"])


# ---------------------------------------------------------------- what the writes do


def test_adding_returns_a_secret_kept_as_given_to_sign_with(cast):
    endpoint, secret = actions.add_webhook(actor=cast.executive, name="  Service   catalogue ", url=URL,
                                           events=["mandate.issued", "coe.published", "coe.published"])
    assert secret.startswith("whsec_") and len(secret) > 40
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    assert endpoint.name == "Service catalogue"
    assert endpoint.events == ["coe.published", "mandate.issued"], "each once, in the platform's order"
    assert endpoint.active and endpoint.revision == 1 and endpoint.created_by == cast.executive
    other = actions.add_webhook(actor=cast.executive, name="Chat", url=URL, events="coe.published, mandate.issued")
    assert other[1] != secret and other[0].events == ["coe.published", "mandate.issued"]


def test_editing_changes_the_endpoint_and_its_revision(cast):
    endpoint = added(cast)
    actions.edit_webhook(actor=cast.executive, endpoint=endpoint, name="Catalogue", url="http://10.0.0.5:8080/in",
                         events=["service.established"], expected_revision=1)
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.url, endpoint.events, endpoint.revision) == (
        "Catalogue", "http://10.0.0.5:8080/in", ["service.established"], 2)
    event = AuditEvent.objects.get(verb="edit_webhook")
    assert event.before["events"] == ["coe.published"] and event.after["events"] == ["service.established"]


def test_removing_keeps_the_endpoint_and_its_log(cast):
    endpoint = added(cast)
    webhooks.emit("coe.published", {"coe": {"id": 1}})
    actions.remove_webhook(actor=cast.executive, endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.deliveries.count() == 1


# ---------------------------------------------------------------- bad input

BAD_FIELDS = [
    pytest.param({"url": "ftp://files.example.org/in"}, "url", "http", id="ftp-url"),
    pytest.param({"url": "javascript:alert(1)"}, "url", "http", id="script-url"),
    pytest.param({"url": "file:///etc/passwd"}, "url", "http", id="file-url"),
    pytest.param({"url": "https://"}, "url", "not a URL", id="url-without-host"),
    pytest.param({"url": "https://hooks.example.org:99999/"}, "url", "not a URL", id="url-bad-port"),
    pytest.param({"url": "https://hooks example.org/"}, "url", "not a URL", id="url-with-space"),
    pytest.param({"url": ""}, "url", "Give the URL", id="no-url"),
    pytest.param({"url": "https://example.org/" + "a" * 500}, "url", "500", id="long-url"),
    pytest.param({"events": []}, "events", "at least one", id="no-events"),
    pytest.param({"events": ""}, "events", "at least one", id="empty-events-text"),
    pytest.param({"events": ["coe.published", "service.renamed"]}, "events", "service.renamed", id="unknown-event"),
    pytest.param({"events": 7}, "events", "list", id="events-not-a-list"),
    pytest.param({"name": "  "}, "name", "name", id="no-name"),
    pytest.param({"name": "x" * 101}, "name", "100", id="long-name"),
    pytest.param({"name": "Chat\x00"}, "name", "Null", id="null-character"),
]


def _values(**changes) -> dict:
    return {"name": "Chat", "url": URL, "events": ["coe.published"], **changes}


@pytest.mark.parametrize("changes,field,says", BAD_FIELDS)
def test_adding_with_bad_input_names_the_field_and_writes_nothing(cast, changes, field, says):
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.add_webhook(actor=cast.executive, **_values(**changes))
    assert refused.value.field == field and field in refused.value.errors
    assert says.lower() in refused.value.message.lower()
    assert snapshot() == before


@pytest.mark.parametrize("changes,field,says", BAD_FIELDS)
def test_editing_with_bad_input_names_the_field_and_writes_nothing(cast, changes, field, says):
    endpoint = added(cast)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.edit_webhook(actor=cast.executive, endpoint=endpoint, **_values(**changes))
    assert refused.value.field == field
    assert says.lower() in refused.value.message.lower()
    assert snapshot() == before


def test_every_problem_is_reported_at_once(cast):
    with pytest.raises(InvalidInput) as refused:
        actions.add_webhook(actor=cast.executive, name="", url="gopher://x", events=[])
    assert set(refused.value.errors) == {"name", "url", "events"}


def test_an_edit_made_from_an_old_revision_is_a_conflict(cast):
    endpoint = added(cast)
    actions.edit_webhook(actor=cast.executive, endpoint=endpoint, **_values(name="First"), expected_revision=1)
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        actions.edit_webhook(actor=cast.exec_team, endpoint=endpoint, **_values(name="Second"), expected_revision=1)
    assert refused.value.field == "revision" and refused.value.changes == ["Now at revision 2."]
    assert snapshot() == before


def test_a_removed_endpoint_cannot_be_changed_or_removed_again(cast):
    endpoint = added(cast)
    actions.remove_webhook(actor=cast.executive, endpoint=endpoint)
    before = snapshot()
    with pytest.raises(Conflict, match="removed"):
        actions.edit_webhook(actor=cast.executive, endpoint=endpoint, **_values())
    with pytest.raises(Conflict, match="removed already"):
        actions.remove_webhook(actor=cast.executive, endpoint=endpoint)
    assert snapshot() == before


def test_only_a_failed_delivery_is_sent_again(cast):
    added(cast)
    [pending] = webhooks.emit("coe.published", {"coe": {"id": 1}})
    before = snapshot()
    with pytest.raises(Conflict, match="pending") as refused:
        actions.redeliver(actor=cast.executive, delivery=pending)
    assert refused.value.field == "delivery"
    WebhookDelivery.objects.filter(pk=pending.pk).update(status="delivered")
    with pytest.raises(Conflict, match="delivered"):
        actions.redeliver(actor=cast.executive, delivery=pending)
    WebhookDelivery.objects.filter(pk=pending.pk).update(status="pending")
    assert snapshot() == before


def test_a_failed_delivery_to_a_removed_endpoint_is_not_sent_again(cast):
    delivery = failed_delivery(cast)
    actions.remove_webhook(actor=cast.executive, endpoint=delivery.endpoint)
    before = snapshot()
    with pytest.raises(Conflict, match="removed"):
        actions.redeliver(actor=cast.executive, delivery=delivery)
    assert snapshot() == before
