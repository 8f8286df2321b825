"""The learning loop's reads run a fixed number of queries however many services, ratings,
CoEs or communities there are (design habit 6): each read is measured on a small and a
ten times larger organisation, and must make exactly the queries named below."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator

from osom.core.actions import create_person
from osom.learning import actions, communities, queries
from osom.learning.doctrine import PATTERNS
from osom.network.actions import add_team_member
from osom.network.models import ProfessionalRole, Service

from .. import factories
from .test_permissions import (
    PROFESSION,
    coe_content,
    open_round,
    posted_role,
    published_coe,
    world,
)

SIZES = [2, 20]
SLUGS = ["know-your-users", "manage-failure", "be-transparent", "optimise-flow"]


def _services(cast, n):
    """``n`` services besides the cast's own, each managed by the other manager."""
    return [factories.service(cast.executive, f"Service {i}", manager=cast.other_manager) for i in range(n)]


def _people(cast, n, prefix="person"):
    return [create_person(actor=cast.executive, email=f"{prefix}{i}@example.org", name=f"Person {prefix} {i}")
            for i in range(n)]


@pytest.mark.parametrize("n", SIZES)
def test_the_heat_map_of_a_page_of_services_makes_three_queries(cast, n, django_assert_num_queries):
    for i, service in enumerate(_services(cast, n)):
        rnd = open_round(cast, service)
        actions.rate_doctrine(actor=cast.other_manager, round=rnd, ratings=[
            {"pattern": slug, "rating": ("good", "partly", "weak")[(i + k) % 3]} for k, slug in enumerate(SLUGS)])
        actions.close_doctrine_round(actor=cast.other_manager, round=rnd)
    page = list(Service.objects.order_by("name"))
    # 1. each service's latest rated round; 2. the counts of its ratings by pattern; 3. the patterns
    with django_assert_num_queries(3):
        heat = queries.heat_map(page)
        cells = [cell for row in heat["rows"] for cell in row["cells"]]
        names = [row["service"].name for row in heat["rows"]]
    assert len(cells) == 40 * (n + 2) and len(names) == n + 2
    assert {"good", "partly", "weak"} <= set(cells)


@pytest.mark.parametrize("n", SIZES)
def test_a_rounds_cells_make_one_query_however_many_respond(cast, n, django_assert_num_queries):
    rnd = open_round(cast, organisation=True)
    for i, person in enumerate(_people(cast, n)):
        actions.rate_doctrine(actor=person, round=rnd, ratings=[
            {"pattern": slug, "rating": "good" if i % 2 else "weak", "evidence": f"Seen by {i}"} for slug in SLUGS])
    # 1. the ratings of the round, with their respondents (for the evidence)
    with django_assert_num_queries(1):
        cells = queries.round_cells(rnd)
    assert sum(cell["respondents"] for cell in cells.values()) == n * len(SLUGS)
    # 1. the ratings; 2. the patterns, laid out by group and phase
    with django_assert_num_queries(2):
        grid = queries.round_grid(rnd)
    assert sum(len(column["cells"]) for row in grid for column in row["phases"]) == len(PATTERNS)


@pytest.mark.parametrize("n", SIZES)
def test_a_page_of_the_coe_library_makes_two_queries(cast, n, django_assert_num_queries):
    w = world(cast)
    for i in range(n):
        published_coe(w, title=f"Problem {i}")
        actions.write_coe(actor=w.team_member, service=w.service, content=coe_content(w, title=f"Draft {i}"))
    for viewer, shown in ((w.outsider, n), (w.team_member, 2 * n)):
        # 1. how many match (for the pages); 2. the page, with each CoE's service and author
        with django_assert_num_queries(2):
            paginator = Paginator(queries.coe_library(q="renewals", pattern="manage-failure", viewer=viewer), 25)
            page = paginator.page(1)
            rows = [(coe.title, coe.service.name, coe.author.name, coe.get_status_display()) for coe in page]
        assert paginator.count == shown and len(rows) == min(shown, 25)


@pytest.mark.parametrize("n", SIZES)
def test_coverage_makes_two_queries_however_many_teams_and_communities(cast, n, django_assert_num_queries):
    roles = list(ProfessionalRole.objects.order_by("pk"))
    for i, (person, service) in enumerate(zip(_people(cast, n), _services(cast, n))):
        add_team_member(actor=cast.other_manager, service=service, person=person, role=roles[i % len(roles)],
                        level="senior")
        communities.form_community(actor=person, name=f"Community {i}", profession=roles[i % len(roles)].job_family,
                                   purpose="Practitioners learn from each other.")
    # 1. the professions in service teams, with their people and services; 2. the communities
    with django_assert_num_queries(2):
        rows = queries.coverage()
        names = [c.name for row in rows for c in row["communities"]]
    assert len(rows) >= 2 and len(names) >= 1
    assert PROFESSION in {row["profession"] for row in rows}


@pytest.mark.parametrize("n", SIZES)
def test_the_learning_figures_make_a_fixed_number_of_queries(cast, n, django_assert_num_queries):
    w = world(cast)
    for i in range(n):
        coe = published_coe(w, title=f"Problem {i}")
        action = coe.actions.get()
        if i % 2:
            actions.update_corrective_action(actor=w.manager, action=action, status="done")
    # 1. closed actions; 2. open; 3. open and overdue; 4. dropped; 5. the published CoEs
    # for repeated problems; 6. the CoEs awaiting review
    with django_assert_num_queries(6):
        figures = queries.learning_figures()
    assert figures["closed"] == n // 2 and figures["open"] == n - n // 2 and figures["unreviewed"] == n
    assert len(figures["repeated"]) == 1 and len(figures["repeated"][0]["coes"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_the_open_roles_a_person_sees_make_three_queries(cast, n, django_assert_num_queries):
    w = world(cast)
    communities.form_community(actor=w.outsider, name="User research", profession=PROFESSION, purpose="Research.")
    for _ in range(n):
        posted_role(w)
    # 1. the professions of their communities; 2. of their roles in teams; 3. the roles
    with django_assert_num_queries(3):
        seen = [(r.role.name, r.service.name) for r in queries.open_roles_for(w.outsider)]
    assert len(seen) == n
