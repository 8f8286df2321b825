"""The NinjaAPI object, its authentication and its error bodies."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from osom.core.errors import DomainError
from osom.core.models import ApiToken


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str):
        person = ApiToken.authenticate(token)
        if person is not None:
            request.user = person
        return person


api = NinjaAPI(
    title="OSOM API",
    version="1",
    description="The service network, its contracts and the people who run it.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = []
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "payload")]
        field = ".".join(loc) or "request"
        errors.append({"field": field, "message": item.get("msg", "is not valid")})
    first = errors[0] if errors else {"field": "request", "message": "The request is not valid."}
    return api.create_response(
        request,
        {"error": "invalid", "message": f"{first['field']}: {first['message']}", "field": first["field"], "errors": errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return api.create_response(
        request,
        {"error": "unauthorised", "message": "Send a valid personal API token as 'Authorization: Bearer <token>'."},
        status=401,
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, {"error": "http", "message": str(exc)}, status=exc.status_code)


from osom.network import api as _network_api  # noqa: E402  (routers register on import)
from osom.core import api as _core_api  # noqa: E402

api.add_router("/", _network_api.router)
api.add_router("/", _core_api.router)
