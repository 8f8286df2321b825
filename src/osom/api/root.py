"""The NinjaAPI object, its authentication and its error bodies.

A request is made as a person, either with a personal API token
(``Authorization: Bearer <token>``) or with the session of a signed-in browser; a
session's writes need the CSRF token, exactly as a form would. Every refusal is a JSON
:class:`~osom.api.schemas.ErrorOut` naming the field and saying what is wrong.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth
from pydantic import BaseModel

from osom.core.actions import NULL_CHARACTERS, null_character_at
from osom.core.errors import DomainError, InvalidInput
from osom.core.models import ApiToken, Person

__all__ = ["api", "field_path"]


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Person | None:
        person = ApiToken.authenticate(token)
        if person is not None:
            request.user = person
        return person


class BrowserSession(SessionAuth):
    """The session of a signed-in browser; writes are checked for the CSRF token.

    A request that carries an ``Authorization`` header is judged by its token alone, so
    a wrong token answers 401 rather than falling back on a cookie; a request with no
    signed-in session has nothing to protect and answers 401 too, not a CSRF refusal.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if "authorization" in request.headers or not request.user.is_authenticated:
            return None
        return super().__call__(request)


class JsonObjectParser(Parser):
    """Every JSON body is an object: one that is not (``null``, ``false``, ``7``, a list, a
    text) is refused (400, field ``body``) for every operation that takes a body, before
    its values are read, instead of being taken as an empty object — so ``7`` cannot
    mark every notification as read, nor ``false`` issue a token. An empty body is no
    JSON at all and still means "nothing given"."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise TypeError("the body is JSON but not an object")
        return data


class OsomAPI(NinjaAPI):
    """The API, whose document says what :class:`JsonObjectParser` enforces: an optional
    body is one that may be left out (``"required": false``), never a JSON ``null``."""

    def get_openapi_schema(self, **kwargs: Any):
        document = super().get_openapi_schema(**kwargs)
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for content in operation.get("requestBody", {}).get("content", {}).values():
                    schema = content.get("schema", {})
                    options = [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]
                    if len(options) == 1 and set(schema) == {"anyOf"}:
                        content["schema"] = options[0]
        return document


api = OsomAPI(
    title="OSOM API",
    version="1",
    description=(
        "The service network, its contracts and the people who run it.\n\n"
        "Authenticate with a personal API token (`POST /api/v1/tokens` from a signed-in "
        "session) sent as `Authorization: Bearer <token>`, or with a signed-in browser "
        "session plus its CSRF token for writes. Lists answer `{\"items\": [...], \"count\": N, "
        "\"next_cursor\": \"...\"}` and take `limit` (default 50, at most 500) and `cursor`, the "
        "`next_cursor` of the page before (null on the last page); `offset` still works but `cursor` "
        "is preferred, and giving both is refused (422). Errors answer "
        "`{\"error\", \"message\", \"field\", \"errors\": [{\"field\", \"message\"}]}`. "
        "Metric targets are exact decimals sent back as strings."
    ),
    auth=[BearerToken(), BrowserSession()],
    parser=JsonObjectParser(),
    urls_namespace="api",
    # The interactive docs use the swagger-ui that ships with ninja, from our own static
    # files; the online spec validator is switched off so the page never calls out.
    docs=Swagger(settings={"validatorUrl": None}),
)

# Where pydantic says a value came from; not part of the field's name.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as the field name a client sent, in the same notation
    as the domain's errors: ``("body", "payload", "needs", 0, "so_that")`` → ``needs[0].so_that``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the view's name for the whole body
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _refusing_null_characters(view: Callable) -> Callable:
    """No text holding a null character (U+0000) goes further than the API — in a body,
    a query or a path, it is refused (400) naming the field as the client sent it
    (``needs[0].so_that``), as a form refuses it: PostgreSQL cannot store or even
    compare such text, and SQLite would keep it. Runs once the request is authenticated
    and its values are read, before the view reads or writes anything."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **values: Any):
        for name, value in values.items():
            if isinstance(value, BaseModel):  # a body, or a set of query parameters: named by their own fields
                where = null_character_at(value.model_dump(by_alias=True))
            else:
                where = null_character_at(value, name)
            if where is not None:
                raise InvalidInput(NULL_CHARACTERS, field=where or "body")
        return view(request, *args, **values)

    return checked


api.add_decorator(_refusing_null_characters)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError):
    errors = []
    for item in exc.errors:
        field = field_path(item.get("loc", ()))
        message = item.get("msg", "is not valid")
        errors.append({"field": field, "message": message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")})
    first = errors[0] if errors else {"field": "body", "message": "The request is not valid."}
    return api.create_response(
        request,
        {"error": "invalid", "message": f"{first['field']}: {first['message']}", "field": first["field"], "errors": errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request,
        {"error": "unauthorised",
         "message": "Send a valid personal API token as 'Authorization: Bearer <token>', or sign in."},
        status=401,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    if exc.status_code == 400:  # ninja could not read the body as JSON
        body = {"error": "invalid", "message": f"{exc}: send a JSON object.", "field": "body"}
    elif exc.status_code == 403:  # ninja's CSRF refusal of a session's write
        body = {"error": "forbidden",
                "message": "A signed-in session's writes need the CSRF token in the X-CSRFToken header."}
    else:
        body = {"error": "http", "message": str(exc)}
    return api.create_response(request, body, status=exc.status_code)


# The routers import this module's schemas, so they are imported once ``api`` exists.
from osom.core import api as _core_api  # noqa: E402
from osom.network import api as _network_api  # noqa: E402

api.add_router("/", _network_api.router)
api.add_router("/", _core_api.router)
api.add_router("/", "osom.lifecycle.api.router")
api.add_router("/", "osom.governance.api.router")
api.add_router("/", "osom.learning.api.router")
api.add_router("/", "osom.fitness.api.router")
api.add_router("/", "osom.maps.api.router")
api.add_router("/", "osom.interop.api.router")
api.add_router("/", "osom.search.api.router")
