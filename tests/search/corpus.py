"""A small organisation to search, built through the actions as people would build it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from osom.governance import actions as governance
from osom.learning import actions as learning
from tests import factories
from tests.learning.test_permissions import coe_content


@dataclass
class Corpus:
    cast: object
    cafe: object
    resume: object
    fines: object
    coe: object
    draft_coe: object
    guidance: object
    draft_guidance: object
    withdrawn_guidance: object


def build(cast) -> Corpus:
    ex = cast.executive
    cafe = factories.service(ex, "Café finder", manager=cast.manager,
                             purpose="Finds a café near you, open late. Lists opening hours.")
    resume = factories.service(ex, "Résumé checker", manager=cast.other_manager,
                               purpose="Checks a CV (curriculum vitæ) for the council's jobs.")
    fines = factories.service(ex, "Parking fines", manager=cast.manager,
                              purpose="Collects fines: penalty charge notices for parking.")
    coe = learning.write_coe(actor=cast.team_member, service=cast.service, content=coe_content(cast))
    coe = learning.publish_coe(actor=cast.manager, coe=coe)
    draft_coe = learning.write_coe(actor=cast.team_member, service=cast.service,
                                   content=coe_content(cast, title="Café payments doubled", problem="Draft only."))
    guidance = governance.draft_guidance(
        actor=ex, title="Use the shared payment platform", body="Take payments for parking through the platform.",
        source="practice", category="technology", source_detail="Lessons of other councils")
    guidance = governance.publish_guidance(actor=ex, guidance=guidance)
    draft_guidance = governance.draft_guidance(
        actor=ex, title="Parking café vouchers", body="Not yet agreed.", source="practice", category="technology")
    withdrawn = governance.draft_guidance(
        actor=ex, title="Permit paper forms", body="Keep paper forms for parking permits.", source="practice",
        category="operations")
    withdrawn = governance.publish_guidance(actor=ex, guidance=withdrawn)
    withdrawn = governance.withdraw_guidance(actor=ex, guidance=withdrawn, reason="Everyone applies online now.")
    return Corpus(cast, cafe, resume, fines, coe, draft_coe, guidance, draft_guidance, withdrawn)


@pytest.fixture
def corpus(cast) -> Corpus:
    return build(cast)


__all__ = ["Corpus", "build", "corpus"]
