"""One error type, many faces (design habit 4).

Actions raise these; pages turn them into form errors, the API into JSON bodies with
the field and a sentence, the CLI into a one-line message and exit code 2.
"""

from __future__ import annotations

__all__ = ["DomainError", "InvalidInput", "NotAllowed", "NotFound", "Conflict"]


class DomainError(Exception):
    """A refusal by the rules of the model. Nothing has been written when it is raised."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors: dict[str, list[str]] = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = [message]

    def as_dict(self) -> dict:
        body: dict = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.errors:
            body["errors"] = [
                {"field": name, "message": text} for name, texts in self.errors.items() for text in texts
            ]
        return body


class InvalidInput(DomainError):
    """Input that breaks a rule: names the field and says what is wrong."""

    @classmethod
    def collect(cls, errors: dict[str, list[str]]) -> "InvalidInput":
        name, texts = next(iter(errors.items()))
        first = texts[0]
        more = sum(map(len, errors.values())) - 1
        message = first if more == 0 else f"{first.rstrip('.')}; and {more} more problem{'s' if more > 1 else ''}."
        return cls(message, field=name, errors=errors)


class NotAllowed(DomainError):
    """The actor's role does not allow this act (HTTP 403)."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The object changed since the actor read it (HTTP 409); ``changes`` says how."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, *, field: str | None = None, changes: list[str] | None = None):
        super().__init__(message, field=field)
        self.changes = list(changes or [])

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["changes"] = self.changes
        return body


class Errors:
    """Collects field errors so an action can report every problem at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise InvalidInput.collect(self.by_field)
