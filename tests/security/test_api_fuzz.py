"""The API under generated requests: every operation of the served OpenAPI document is
called with data made from its own schema, valid and deliberately invalid, as the
executive and as a service manager, against a database holding one of everything.

For every answer: no server error; the status code, content type, headers and body are
those the document declares; a request the document calls invalid is refused; and every
refusal (4xx) says what is wrong in a JSON body with a message, naming the field when
the input is at fault. (That each operation refuses a request without a token, and the
people the policy does not allow, is checked by ``test_route_walk``.)

The examples are drawn deterministically, a few per operation and kind, so a run is
bounded and repeatable; set ``OSOM_FUZZ_EXAMPLES`` (default 3) higher for a longer hunt.

Inputs that reach a known defect are left out of the generated requests and pinned by a
test of their own at the end of this module, marked as an expected failure; when the
defect is fixed that test passes, fails as unexpectedly passing, and both it and the
exclusion are to be removed.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import got_request_exception, request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from osom.api.root import api
from osom.api.schemas import MAX_OFFSET
from osom.core.models import ApiToken, Notification
from osom.governance import actions as governance_actions

from ..api.conftest import token_for
from .conftest import World, api_path_values

EXAMPLES = int(os.environ.get("OSOM_FUZZ_EXAMPLES", "3"))
# Hypothesis keeps caches of its own; they go with the rest of the test data, not into the work tree.
set_hypothesis_home_dir(str(django_settings.DATA_DIR / "hypothesis"))
SPEC = "/api/v1/openapi.json"

CONFIG = schemathesis.Config.from_dict({
    # The fuzzing phase only: the coverage phase would try every boundary of every
    # field, thousands of requests; the explicit examples are few and tested elsewhere.
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
    # Our own Authorization header is sent with every request, so none is generated.
    "generation": {"mode": "all", "deterministic": True, "with-security-parameters": False},
    # Valid data may still break a rule of the model (an approved version cannot be
    # edited, a proposal is decided once), so a 4xx answer to it is no failure.
    "checks": {"positive_data_acceptance": {"enabled": False}, "ignored_auth": {"enabled": False}},
})

# The refusals of wrong input, whose body must name the field at fault.
INPUT_REFUSALS = {400, 422}


@functools.cache
def served_document() -> dict[str, Any]:
    """The OpenAPI document as the API serves it (made once: it takes seconds to build)."""
    return api.get_openapi_schema()


def _tags() -> list[str]:
    spec = served_document()
    return sorted({op.get("tags", ["untagged"])[0] for item in spec["paths"].values() for op in item.values()})


# ---------------------------------------------------------------- what every refusal says

def refusal_problems(status: int, body: bytes) -> list[str]:
    """What a 4xx body fails to say; empty when it names the problem."""
    try:
        data = json.loads(body)
    except ValueError:
        return [f"a {status} answer is not JSON: {body[:120]!r}"]
    if not isinstance(data, dict):
        return [f"a {status} answer is not a JSON object: {data!r}"]
    problems = []
    if not (isinstance(data.get("message"), str) and data["message"].strip()):
        problems.append(f"a {status} answer has no message: {data}")
    if status in INPUT_REFUSALS and not (isinstance(data.get("field"), str) and data["field"].strip()):
        problems.append(f"a {status} answer names no field: {data}")
    return problems


def test_the_document_fuzzed_is_the_one_served(db, client):
    assert client.get(SPEC).json() == json.loads(json.dumps(served_document(), default=str))


def test_a_refusal_without_a_message_or_a_field_is_caught():
    assert refusal_problems(404, b'{"error": "not_found", "message": "There is no service."}') == []
    assert refusal_problems(422, b'{"message": "Too long.", "field": "name"}') == []
    assert refusal_problems(422, b'{"message": "Too long."}') == ['a 422 answer names no field: {\'message\': \'Too long.\'}']
    assert refusal_problems(403, b'{"error": "forbidden"}')
    assert refusal_problems(400, b"<h1>Bad Request</h1>")


# ---------------------------------------------------------------- inputs of known defects

def known_defect(case) -> str | None:
    """Why this generated request would only find a defect already pinned below, or None."""
    if isinstance(case.body, dict) and _converted(case.body, _body_schema(case.operation)):
        return "a value the schemas convert"  # test_a_value_of_another_type_is_refused_not_converted
    return None


def _resolve(schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = served_document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema if isinstance(schema, dict) else {}


def _body_schema(operation) -> dict:
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema", {})


def _converted(value: Any, schema: dict) -> bool:
    """Whether ``value`` holds, where ``schema`` declares a number or a date, a value of
    another JSON type that the API's schemas convert rather than refuse (true for 1, a
    number for a date, "5" for 5)."""
    schema = _resolve(schema)
    options = [_resolve(o) for o in schema.get("anyOf", []) + schema.get("oneOf", [])] or [schema]
    if isinstance(value, dict):
        return any(_converted(v, o.get("properties", {}).get(k, {})) for o in options for k, v in value.items())
    if isinstance(value, list):
        return any(_converted(v, o.get("items", {})) for o in options for v in value)
    if any(_fits(value, o) for o in options):
        return False
    return any(o.get("type") in ("integer", "number") or o.get("format") in ("date", "date-time") for o in options)


def _fits(value: Any, schema: dict) -> bool:
    kind = schema.get("type")
    if kind is None:
        return True
    return {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str), "boolean": isinstance(value, bool), "null": value is None,
    }.get(kind, True)


# ---------------------------------------------------------------- running the operations

class ServerErrors:
    """The exceptions the app raised while answering, where they were raised in OSOM's code."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, sender, request=None, **kwargs) -> None:
        _, exc, tb = sys.exc_info()
        frames = [f for f in traceback.extract_tb(tb) if "/osom/" in f.filename]
        where = " < ".join(f"{f.filename.split('/osom/')[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
        self.seen.append(f"{request.method} {request.get_full_path()[:200]}: {type(exc).__name__}: {exc} (at {where})")


@pytest.fixture
def wsgi():
    """The whole Django app as a server runs it, inside the test's transaction: the start
    and end of a request must not close the connection that holds that transaction."""
    errors = ServerErrors()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(errors)
    try:
        yield get_wsgi_application(), errors
    finally:
        got_request_exception.disconnect(errors)
        request_finished.connect(close_old_connections)
        request_started.connect(close_old_connections)


class Caller:
    """Calls the API as one person with a token that stays valid: a generated request
    may revoke the person's own token, which is then issued anew."""

    def __init__(self, person) -> None:
        self.person = person
        self.raw = token_for(person)

    def headers(self) -> dict[str, str]:
        if ApiToken.authenticate(self.raw) is None:
            self.raw = token_for(self.person)
        return {"Authorization": f"Bearer {self.raw}"}


def _summary(exc: BaseException) -> str:
    """The checks that failed and the request that reproduces the failure."""
    # A failure that the database's later state no longer repeats is still a failure:
    # Hypothesis wraps it, and the first one is the report.
    while not isinstance(exc, FailureGroup) and isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = exc.message if isinstance(exc, FailureGroup) else f"{type(exc).__name__}: {exc}"
    for note in getattr(exc, "__notes__", []):
        text += "\n" + note.strip()
    return text.strip()[:2000]


def fuzz_operation(operation, world: World, caller: Caller) -> list[str]:
    """Up to ``EXAMPLES`` requests of each kind; the problems found, one entry each."""
    real = api_path_values(world, operation.method.upper(), operation.path)
    # valid requests that name real objects, so they reach the actions …
    strategies = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real)]
    # … invalid ones, where there is anything to make invalid …
    if operation.body or operation.query or real:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real))
    # … and ids and slugs that name nothing
    if real:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE))

    def check(case) -> None:
        assume(known_defect(case) is None)
        response = case.call_and_validate(headers=caller.headers())
        if 400 <= response.status_code < 500:
            found = refusal_problems(response.status_code, response.content)
            assert not found, f"{case.method} {case.formatted_path}: " + "; ".join(found)

    problems = []
    for strategy in strategies:
        run = settings(
            max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
            suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        )(given(case=strategy)(check))
        try:
            run()
        except Unsatisfiable:  # nothing of this kind to generate
            continue
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - each failure is reported; the run goes on
            problems.append(_summary(exc))
    return problems


@pytest.mark.parametrize("tag", _tags())
@pytest.mark.parametrize("role", ["executive", "manager"])
def test_every_operation_answers_generated_requests_as_its_document_says(world, wsgi, role, tag):
    app, server_errors = wsgi
    schema = schemathesis.openapi.from_dict(served_document(), config=CONFIG)
    schema.app = app  # requests go to the app itself, through its WSGI interface
    caller = Caller(world.cast.by_role()[role])
    failures: dict[str, list[str]] = {}
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("tags", ["untagged"])[0] != tag:
            continue
        tested += 1
        if found := fuzz_operation(operation, world, caller):
            failures[operation.label] = found
    assert tested
    report = "\n\n".join(f"{label}:\n  " + "\n  ".join(found) for label, found in failures.items())
    if server_errors.seen:
        report += "\n\nServer errors:\n" + "\n".join(sorted(set(server_errors.seen))[:20])
    assert not failures, report


# ---------------------------------------------------------------- known defects, pinned

BEYOND = 2**63  # one more than the largest integer PostgreSQL and SQLite store


@pytest.fixture
def raw_api(cast):
    """The API as the executive, with server errors answered as a server would (500)."""
    client = Client(raise_request_exception=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(cast.executive)}"
    return client


def _refused_naming(response, field: str) -> None:
    assert response.status_code in INPUT_REFUSALS, (response.status_code, response.content[:300])
    assert response.json().get("field") == field, response.json()


@pytest.mark.parametrize("call", [
    ("get", "/api/v1/services", {"offset": BEYOND}, "offset"),
    ("get", "/api/v1/people", {"offset": BEYOND}, "offset"),
    ("get", "/api/v1/mandates", {"offset": BEYOND}, "offset"),
    ("get", "/api/v1/audit", {"person": BEYOND}, "person"),
    ("post", "/api/v1/notifications/read", {"ids": [BEYOND]}, "ids[0]"),
], ids=["services-offset", "people-offset", "mandates-offset", "audit-person", "notifications-ids"])
def test_integers_beyond_the_database_are_refused(raw_api, call):
    method, path, data, field = call
    if method == "get":
        response = raw_api.get(path, data)
    else:
        response = raw_api.post(path, json.dumps(data), content_type="application/json")
    _refused_naming(response, field)


def test_text_with_a_null_character_is_refused_naming_the_field(raw_api):
    response = raw_api.post("/api/v1/criteria", json.dumps({"name": "Accessible\x00", "meaning": "Meets WCAG 2.2 AA."}),
                            content_type="application/json")
    _refused_naming(response, "name")


def test_a_filter_with_a_null_character_is_refused_naming_the_field(raw_api):
    # PostgreSQL cannot even compare such text: it must not reach the database
    _refused_naming(raw_api.get("/api/v1/assessments", {"service": "parking\x00"}), "service")


@pytest.mark.parametrize("call", [
    ("/api/v1/notifications/read", {"ids": [True]}, "ids[0]"),
    ("/api/v1/coe-reviews", {"scheduled_for": 0}, "scheduled_for"),
], ids=["true-for-an-id", "a-number-for-a-date"])
def test_a_value_of_another_type_is_refused_not_converted(raw_api, call):
    path, data, field = call
    _refused_naming(raw_api.post(path, json.dumps(data), content_type="application/json"), field)


@pytest.mark.parametrize("body", ["null", "false", "-1", "[]", '"ids"'])
def test_a_body_that_is_not_an_object_is_refused(raw_api, cast, body):
    issued = ApiToken.objects.filter(person=cast.executive).count()
    response = raw_api.post("/api/v1/tokens", body, content_type="application/json")
    _refused_naming(response, "body")
    assert response.status_code == 400
    assert ApiToken.objects.filter(person=cast.executive).count() == issued


def test_a_body_that_is_not_an_object_marks_no_notification_read(cast):
    governance_actions.raise_dispute(actor=cast.other_manager, service=cast.other_service,
                                     other_service=cast.service, subject="Permit checks flood Identity",
                                     description="Two calls per page.")  # the manager is told
    unread = Notification.objects.filter(person=cast.manager, read_at__isnull=True)
    told = unread.count()
    assert told
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(cast.manager)}"
    for body in ("7", "null", "false"):
        response = client.post("/api/v1/notifications/read", body, content_type="application/json")
        _refused_naming(response, "body")
        assert response.status_code == 400
    assert unread.count() == told
    # a request without a body still marks every one of them
    assert client.post("/api/v1/notifications/read", "", content_type="application/json").json() == {
        "marked": told, "unread": 0}


def test_an_offset_beyond_the_limit_is_refused_on_the_budget_overview(raw_api):
    _refused_naming(raw_api.get("/api/v1/budgets", {"offset": MAX_OFFSET + 1}), "offset")
    assert raw_api.get("/api/v1/budgets", {"offset": MAX_OFFSET}).status_code == 200
