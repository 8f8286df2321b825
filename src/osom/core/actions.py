"""Writes to the organisation itself: people, its own names for the model, API tokens."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from . import audit
from .errors import Conflict, Errors, InvalidInput
from .models import ApiToken, Organisation, Person, Role
from .policy import Authority, authorise

# The writes only: the guard below, put on every app's writes, is not one.
__all__ = ["edit_terminology", "create_person", "issue_api_token", "revoke_api_token", "TERM_FIELDS"]

# What a form says of a null character (U+0000), which no text column can hold:
# PostgreSQL refuses it, SQLite would keep it.
NULL_CHARACTERS = "Null characters are not allowed."

# Arguments whose entries are the fields themselves, named without the argument's name,
# as the actions' own errors name them: ``content={"purpose": ...}`` → ``purpose``.
_FIELDS_AT_TOP = ("content", "values")


def null_character_at(value: Any, place: str = "") -> str | None:
    """Where in ``value`` — text, or lists and mappings of them, at any depth — a text
    holds a null character, named as the errors name fields (``needs[2].so_that``);
    None if nowhere. A key holding one is blamed on the mapping it is in. Rows read
    from the database are not looked into."""
    stack = [(place, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, Mapping):
            for key, inner in reversed(list(item.items())):
                if isinstance(key, str) and "\x00" in key:
                    return where
                stack.append((f"{where}.{key}" if where else str(key), inner))
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((f"{where}[{i}]", inner) for i, inner in reversed(list(enumerate(item))))
    return None


Action = TypeVar("Action", bound=Callable[..., Any])


def refuses_null_characters(action: Action) -> Action:
    """Mark a write: an act whose input holds a null character anywhere is refused,
    naming the field, before anything is read or written."""

    @functools.wraps(action)
    def checked(*args, **kwargs):
        for name, value in kwargs.items():
            top = "" if name in _FIELDS_AT_TOP and isinstance(value, Mapping) else name
            where = null_character_at(value, top)
            if where is not None:
                raise InvalidInput(NULL_CHARACTERS, field=where or name)
        for value in args:
            where = null_character_at(value)
            if where is not None:
                raise InvalidInput(NULL_CHARACTERS, field=where or "input")
        return action(*args, **kwargs)

    checked.refuses_null_characters = True
    return checked  # type: ignore[return-value]


TERM_FIELDS = {
    "name": "The organisation's name",
    "model_name": "Name of the operating model",
    "executive_name": "Name of the executive",
    "executive_team_name": "Name of the executive team",
    "service_manager_name": "Name of a service manager",
}


@refuses_null_characters
def edit_terminology(*, actor: Person, values: dict, expected_revision: int | None = None) -> Organisation:
    """The executive renames the model's roles to the organisation's own words (model 10)."""
    authority = authorise(actor, "edit_terminology")
    errors = Errors()
    cleaned = {}
    for field, label in TERM_FIELDS.items():
        if field not in values:
            continue
        value = " ".join(str(values.get(field) or "").split())
        limit = Organisation._meta.get_field(field).max_length
        if not value:
            errors.add(field, f"{label} cannot be empty.")
        elif len(value) > limit:
            errors.add(field, f"{label} is {len(value)} characters long; keep it to {limit}.")
        cleaned[field] = value
    if not cleaned and not errors:
        errors.add("values", "Give at least one name to change.")
    errors.raise_if_any()
    with transaction.atomic():
        org = Organisation.objects.select_for_update(no_key=True).get(pk=Organisation.current().pk)
        if expected_revision is not None and int(expected_revision) != org.revision:
            raise Conflict(
                "Someone else changed the names since you opened this page. Reload it and make your change again.",
                field="revision",
                changes=[f"{TERM_FIELDS[f]} is now “{getattr(org, f)}”" for f in TERM_FIELDS],
            )
        before = {f: getattr(org, f) for f in cleaned}
        for field, value in cleaned.items():
            setattr(org, field, value)
        org.revision += 1
        org.save()
        audit.record(
            actor, "edit_terminology", org, authority=authority,
            summary="Changed the organisation's names: " + ", ".join(
                f"{TERM_FIELDS[f].lower()} “{before[f]}” → “{v}”" for f, v in cleaned.items() if before[f] != v
            ) if any(before[f] != v for f, v in cleaned.items()) else "Saved the organisation's names unchanged",
            before=before, after=cleaned,
        )
    return org


@refuses_null_characters
def create_person(
    *, actor: Person | None, email: str, name: str, role: str = Role.MEMBER, areas_of_interest: str = "",
    password: str | None = None,
) -> Person:
    """Add someone to the organisation. The very first person of an empty organisation
    may be created without an actor, and must be its executive."""
    first = not Person.objects.exists()
    if first and actor is None:
        if role != Role.EXECUTIVE:
            raise InvalidInput("The first person in a new organisation must be its executive.", field="role")
        authority = Authority("system")
    else:
        authority = authorise(actor, "create_person")
    errors = Errors()
    email = (email or "").strip().lower()
    name = " ".join((name or "").split())
    try:
        validate_email(email)
    except ValidationError:
        errors.add("email", f"“{email}” is not an email address." if email else "Give the person's email address.")
    else:
        if Person.objects.filter(email__iexact=email).exists():
            errors.add("email", f"{email} is already in the organisation.")
    if not name:
        errors.add("name", "Give the person's name.")
    elif len(name) > 200:
        errors.add("name", "Keep the name to 200 characters.")
    if role not in Role.values:
        errors.add("role", f"“{role}” is not a role: use one of {', '.join(Role.values)}.")
    elif role == Role.EXECUTIVE and Person.objects.filter(role=Role.EXECUTIVE, is_active=True).exists():
        errors.add("role", "The organisation already has its one executive.")
    if password is not None and len(password) < 10:
        errors.add("password", "Use a password of at least 10 characters.")
    errors.raise_if_any()
    with transaction.atomic():
        person = Person.objects.create_user(
            email, password, name=name, role=role, areas_of_interest=(areas_of_interest or "").strip()
        )
        audit.record(
            actor or person, "create_person", person, authority=authority,
            summary=f"Added {person.name} <{person.email}> as {Role(role).label.lower()}",
            after={"email": email, "role": role},
        )
    return person


@refuses_null_characters
def issue_api_token(*, actor: Person, person: Person, label: str = "", days: int | None = 90) -> tuple[ApiToken, str]:
    """A personal API token, shown once. Returns the stored row and the token itself."""
    authority = authorise(actor, "issue_api_token", subject=person)
    if days is not None and not (1 <= int(days) <= 3650):
        raise InvalidInput("A token lasts between 1 and 3650 days.", field="days")
    if len(label or "") > 100:
        raise InvalidInput("Keep the label to 100 characters.", field="label")
    with transaction.atomic():
        token, raw = ApiToken.mint(person, label=(label or "").strip(), days=days)
        token.save()
        audit.record(
            actor, "issue_api_token", token, authority=authority,
            summary=f"Issued API token {token.prefix}… for {person}",
            after={"expires_at": token.expires_at.isoformat() if token.expires_at else None},
        )
    return token, raw


@refuses_null_characters
def revoke_api_token(*, actor: Person, token: ApiToken) -> ApiToken:
    authority = authorise(actor, "revoke_api_token", subject=token.person)
    with transaction.atomic():
        # decided on the token as it is now, locked: two revocations at once record one
        token = ApiToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        if token.revoked_at:
            raise InvalidInput("This token was already revoked.", field="token")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "revoke_api_token", token, authority=authority, summary=f"Revoked API token {token.prefix}…")
    return token
