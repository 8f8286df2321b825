"""The guidance page leads back to the Correction of Error it draws on."""

from django.urls import reverse

from osom.governance import actions as governance

import pytest

from .test_permissions import published_coe, world


@pytest.fixture
def w(cast):
    return world(cast)


def test_the_guidance_page_links_to_its_coe(client, w):
    coe = published_coe(w)
    guidance = governance.draft_guidance(actor=w.executive, title="Every certificate has an owner",
                                         body="Name an owner.", source="coe", category="operations", coe=coe)
    client.force_login(w.executive)
    page = client.get(reverse("governance:guidance", args=[guidance.pk])).content.decode()
    assert reverse("learning:coe", args=[coe.pk]) in page


def test_other_guidance_has_no_such_link(client, w):
    guidance = governance.draft_guidance(actor=w.executive, title="Use the shared hosting",
                                         body="It is cheaper.", source="practice", category="technology")
    client.force_login(w.executive)
    page = client.get(reverse("governance:guidance", args=[guidance.pk])).content.decode()
    assert "Read the Correction of Error it draws on" not in page
