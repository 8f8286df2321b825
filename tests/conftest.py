"""Named people for every test, created through the actions layer (design habit 8)."""

from __future__ import annotations

import gc
from dataclasses import dataclass

import pytest

from osom.core.actions import create_person
from osom.core.models import Person
from osom.network.actions import add_team_member
from osom.network.models import ProfessionalRole, Service

from . import factories

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that do not test hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _nothing_kept_from_another_test():
    """Results kept until the next write (``osom.core.kept``) belong to one test's database:
    a test's writes are rolled back at its end, and the next may reach the same write mark."""
    from osom.core.kept import forget_all

    forget_all()
    yield
    forget_all()


# The data migrations that fill the platform's own reference tables, in order.
_REFERENCE_DATA = [
    ("osom.network.migrations.0002_professional_roles", "add_organisation"),
    ("osom.network.migrations.0002_professional_roles", "add_roles"),
    ("osom.learning.migrations.0002_doctrine_patterns", "add_patterns"),
    ("osom.lifecycle.migrations.0002_starting_criteria", "add_criteria"),
]


@pytest.fixture
def reference_data(transactional_db):
    """A transactional test ends by emptying every table, the rows the data migrations
    wrote included; a transactional test that needs them (the professional roles, the
    doctrine's patterns, the starting criteria) asks for this to put them back first (each
    step is idempotent)."""
    import importlib

    from django.apps import apps

    for module, function in _REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@dataclass
class Cast:
    executive: Person
    exec_team: Person
    manager: Person
    other_manager: Person
    team_member: Person
    outsider: Person
    service: Service  # managed by ``manager``; ``team_member`` is in its team
    other_service: Service  # managed by ``other_manager``

    def by_role(self) -> dict[str, Person]:
        return {
            "executive": self.executive,
            "exec_team": self.exec_team,
            "manager": self.manager,
            "other_manager": self.other_manager,
            "team_member": self.team_member,
            "outsider": self.outsider,
        }


@pytest.fixture
def cast(db) -> Cast:
    executive = create_person(actor=None, email="ada@example.org", name="Ada Lovelace", role="executive", password=PASSWORD)
    exec_team = create_person(actor=executive, email="bea@example.org", name="Bea Finance", role="executive_team",
                              areas_of_interest="finance, risk", password=PASSWORD)
    manager = create_person(actor=executive, email="max@example.org", name="Max Manager", password=PASSWORD)
    other_manager = create_person(actor=executive, email="olu@example.org", name="Olu Other", password=PASSWORD)
    team_member = create_person(actor=executive, email="tia@example.org", name="Tia Team", password=PASSWORD)
    outsider = create_person(actor=executive, email="ola@example.org", name="Ola Outsider", password=PASSWORD)
    other_service = factories.service(executive, "Identity", manager=other_manager, user_type="internal", evolution_stage="product")
    service = factories.service(executive, "Parking permits", manager=manager, dependencies=["identity"])
    add_team_member(actor=manager, service=service, person=team_member,
                    role=ProfessionalRole.objects.get(name="User researcher"), level="senior")
    return Cast(executive, exec_team, manager, other_manager, team_member, outsider, service, other_service)


@pytest.fixture
def collector_on():
    """Python's cycle collector on for the test, and as it was after it."""
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()
