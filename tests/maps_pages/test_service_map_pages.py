"""A service's Wardley map as pages: the panel on the service's page, the map with its
warnings and versions, each version, the downloads, and the editor with its preview.
Saving is the one write: refused with the policy's sentence and nothing written for the
roles without the right, bad input shown on its field, a stale save shown as a conflict
with the text kept."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.maps.models import MapVersion
from osom.maps.text import parse

from .helpers import BAD_LINE, MAP, WITH_A_BAD_LINE, saved

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
MAY_SAVE = {"manager", "team_member"}


def _body(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def _panel(c, person) -> str:
    """The map panel as the service's page places it, for ``person``."""
    request = RequestFactory().get("/")
    request.user = person
    return Template("{% load maps_panel %}{% map_panel service %}").render(Context({"request": request, "service": c.service}))


def _textarea(body: str) -> str:
    found = re.search(r'<textarea name="text"[^>]*>\n?(.*?)</textarea>', body, re.S)
    assert found, "no map text field"
    return found.group(1)


def _hidden_number(body: str) -> str:
    return re.search(r'<input type="hidden" name="number" value="(\d+)">', body).group(1)


def _post(c, number: int, **data) -> dict:
    return {"text": MAP, "note": "", "number": str(number), "save": "1", **data}


# ---------------------------------------------------------------- every page renders

@pytest.mark.parametrize("role", ROLES)
def test_every_map_page_renders_for_every_role_with_the_editor_only_for_its_people(cast, client, role):
    saved(cast)
    version = saved(cast, WITH_A_BAD_LINE, note="Kerb sensors")
    client.force_login(cast.by_role()[role])
    edit = reverse("maps:edit", args=[cast.service.slug])
    for url, says in [
        (reverse("maps:map", args=[cast.service.slug]), "Version 2"),
        (reverse("maps:version", args=[cast.service.slug, 1]), "version 1"),
        (reverse("maps:neighbourhood", args=[cast.service.slug]), "Identity"),
        (reverse("maps:impact", args=[cast.other_service.slug]), "Parking permits"),
        (reverse("maps:network"), "Parking permits"),
        (reverse("maps:cycles"), "no dependency cycle"),
    ]:
        body = _body(client, url)
        assert says in body, url
        assert (f'href="{edit}"' in body) == (role in MAY_SAVE and url == reverse("maps:map", args=[cast.service.slug])), \
            (url, role)
    assert ("Change the map" in _panel(cast, cast.by_role()[role])) == (role in MAY_SAVE)
    response = client.get(edit)
    if role in MAY_SAVE:
        assert response.status_code == 200 and _hidden_number(response.content.decode()) == str(version.number)
    else:
        assert response.status_code == 403
        assert "Only the service manager of Parking permits or its team may save this service's map." in \
            html.unescape(response.content.decode())


def test_the_map_page_shows_the_current_map_its_warnings_and_every_version(cast, client):
    saved(cast, note="First map")
    saved(cast, WITH_A_BAD_LINE, note="Kerb sensors", actor=cast.team_member)
    client.force_login(cast.outsider)
    body = _body(client, reverse("maps:map", args=[cast.service.slug]))
    assert "Version 2, saved" in body and "by Tia Team" in body and "“Kerb sensors”" in body
    svg = body[body.index("<svg"):body.index("</svg>") + 6]
    assert "Parking permits" in svg and "Resident" in svg and "Identity" in svg
    warnings = body[body.index('aria-label="Lines not understood"'):]
    assert f"Line {BAD_LINE}:" in warnings and "Kerb sensors" in warnings
    versions = body[body.index('id="versions-h"'):]
    assert "First map" in versions and "Kerb sensors" in versions
    assert f'href="{reverse("maps:version", args=[cast.service.slug, 1])}"' in versions
    assert "1 line not understood" in versions


def test_a_service_without_a_map_invites_only_its_people_to_draw_one(cast, client):
    client.force_login(cast.manager)
    body = _body(client, reverse("maps:map", args=[cast.service.slug]))
    assert "has no map yet" in body and "Draw this service's map" in body
    assert "Draw this service's map" in _panel(cast, cast.manager)
    client.force_login(cast.executive)
    body = _body(client, reverse("maps:map", args=[cast.service.slug]))
    assert "has no map yet" in body and "Draw this service's map" not in body
    panel = _panel(cast, cast.executive)
    assert "No map drawn yet." in panel and "Draw this service's map" not in panel
    # the ways into the dependency graph are there for everyone
    for name in ("maps:neighbourhood", "maps:impact"):
        assert reverse(name, args=[cast.service.slug]) in panel
    assert f'{reverse("maps:network")}?around={cast.service.slug}' in panel


def test_the_panel_shows_a_thumbnail_the_version_its_date_and_its_warnings(cast):
    saved(cast, WITH_A_BAD_LINE)
    panel = _panel(cast, cast.outsider)
    assert reverse("maps:map", args=[cast.service.slug]) in panel
    thumbnail = panel[panel.index("<svg"):panel.index("</svg>") + 6]
    ET.fromstring(thumbnail)  # well formed
    assert "viewBox" in thumbnail and "Identity" in thumbnail
    assert "Version 1, saved" in panel and "1 line not understood" in panel


def test_an_earlier_version_reads_with_its_text_and_its_warned_lines_marked(cast, client):
    saved(cast, WITH_A_BAD_LINE, note="Kerb sensors")
    saved(cast, MAP, note="Sensors removed")
    client.force_login(cast.outsider)
    body = _body(client, reverse("maps:version", args=[cast.service.slug, 1]))
    assert "An earlier version" in body and "Kerb sensors" in body
    lines = re.findall(r"<li( class=\"has-warning\")?>(.*?)</li>", body[body.index('class="map-lines"'):], re.S)
    assert len(lines) == BAD_LINE
    assert lines[BAD_LINE - 1][0] and "component Kerb sensors [0.5]" in lines[BAD_LINE - 1][1]
    assert not any(marked for marked, _ in lines[:BAD_LINE - 1])
    assert _body(client, reverse("maps:version", args=[cast.service.slug, 9]), status=404)


# ---------------------------------------------------------------- downloads

def test_the_map_text_downloads_as_an_owm_file_exactly_as_written(cast, client):
    saved(cast, WITH_A_BAD_LINE)
    saved(cast, MAP, note="Second")
    client.force_login(cast.outsider)
    response = client.get(reverse("maps:text", args=[cast.service.slug]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="parking-permits-map-v2.owm"'
    assert response.content.decode() == MAP
    response = client.get(reverse("maps:version_text", args=[cast.service.slug, 1]))
    assert response.content.decode() == WITH_A_BAD_LINE
    assert "map-v1.owm" in response["Content-Disposition"]
    assert client.get(reverse("maps:text", args=[cast.other_service.slug])).status_code == 404


def test_an_svg_download_may_run_nothing_and_escapes_what_people_wrote(cast, client):
    saved(cast, MAP + 'component <script>alert("x")</script> [0.3, 0.3]\n')
    client.force_login(cast.outsider)
    for url in (reverse("maps:svg", args=[cast.service.slug]), reverse("maps:version_svg", args=[cast.service.slug, 1])):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert response["Content-Disposition"].startswith("attachment;") and ".svg" in response["Content-Disposition"]
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
        body = response.content.decode()
        assert "<script" not in body and "&lt;script&gt;" in body
        ET.fromstring(body)
    page = _body(client, reverse("maps:map", args=[cast.service.slug]))
    assert "<script>alert" not in page


# ---------------------------------------------------------------- the editor

def test_a_first_map_starts_from_the_contract_users_service_and_dependencies(cast, client):
    client.force_login(cast.manager)
    body = _body(client, reverse("maps:edit", args=[cast.service.slug]))
    assert "Draw the map of Parking permits" in body and _hidden_number(body) == "0"
    text = _textarea(body).replace("&gt;", ">")
    parsed = parse(text)
    assert parsed.warnings == []
    assert parsed.title == "Parking permits"
    kinds = {c.name: c.kind for c in parsed.components}
    assert kinds == {"Resident": "anchor", "Parking permits": "component", "Identity": "component"}
    identity, permits = parsed.component("Identity"), parsed.component("Parking permits")
    assert 0.40 <= identity.evolution <= 0.70  # Identity's contract says product
    assert 0.175 <= permits.evolution <= 0.40  # Parking permits' says custom-built
    assert {(link.source, link.target) for link in parsed.links} == {("Resident", "Parking permits"),
                                                                     ("Parking permits", "Identity")}
    assert "// Resident: Parking permits need 1" in text  # the need it has to serve


def test_the_editor_opens_the_current_text_and_its_version_number(cast, client):
    saved(cast, WITH_A_BAD_LINE)
    client.force_login(cast.team_member)
    body = _body(client, reverse("maps:edit", args=[cast.service.slug]))
    assert "Change the map of Parking permits" in body and _hidden_number(body) == "1"
    assert _textarea(body).replace("&gt;", ">") == WITH_A_BAD_LINE
    # the textarea is labelled, described, and asks for a live preview with htmx
    assert '<label for="id_text">Map text</label>' in body
    tag = body[body.index('<textarea name="text"'):body.index(">", body.index('<textarea name="text"'))]
    assert 'aria-describedby="id_text_helptext"' in tag and 'class="map-text"' in tag
    assert f'hx-post="{reverse("maps:preview", args=[cast.service.slug])}"' in tag
    assert "keyup changed delay:400ms" in tag
    assert f"Line {BAD_LINE}:" in body  # the preview of the text it opened with


def test_saving_makes_a_new_version_with_its_note_and_an_audit_event(cast, client):
    client.force_login(cast.manager)
    response = client.post(reverse("maps:edit", args=[cast.service.slug]), _post(cast, 0, note="A first go"))
    assert response.status_code == 302 and response["Location"] == reverse("maps:map", args=[cast.service.slug])
    version = MapVersion.objects.get()
    assert (version.number, version.text, version.note, version.saved_by) == (1, MAP, "A first go", cast.manager)
    assert AuditEvent.objects.filter(verb="save_service_map", actor=cast.manager).count() == 1
    client.force_login(cast.team_member)
    client.post(reverse("maps:edit", args=[cast.service.slug]), _post(cast, 1, text=WITH_A_BAD_LINE))
    assert list(MapVersion.objects.order_by("number").values_list("number", "warnings")) == [(1, 0), (2, 1)]
    body = _body(client, reverse("maps:map", args=[cast.service.slug]))
    assert "Saved version 2 of the map of Parking permits. 1 line was not understood" in body


@pytest.mark.parametrize("role", sorted(set(ROLES) - MAY_SAVE))
def test_roles_without_the_right_cannot_save_or_preview_and_nothing_is_written(cast, client, role):
    client.force_login(cast.by_role()[role])
    response = client.post(reverse("maps:edit", args=[cast.service.slug]), _post(cast, 0))
    assert response.status_code == 403
    assert "may save this service's map" in html.unescape(response.content.decode())
    response = client.post(reverse("maps:preview", args=[cast.service.slug]), {"text": MAP})
    assert response.status_code == 403
    assert not MapVersion.objects.exists()
    assert not AuditEvent.objects.filter(verb="save_service_map").exists()


@pytest.mark.parametrize("data, field, message", [
    ({"text": "   \n"}, "text", "Write the map text: at least one component."),
    ({"note": "n" * 301}, "note", "Keep the note to 300 characters."),
])
def test_bad_input_shows_the_message_on_its_field_and_writes_nothing(cast, client, data, field, message):
    client.force_login(cast.manager)
    response = client.post(reverse("maps:edit", args=[cast.service.slug]), _post(cast, 0, **data))
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body
    errors = body[body.index(f'id="id_{field}_error"'):]
    assert message in errors[:errors.index("</div>")]
    assert f'<a href="#id_{field}">' in body  # the summary links to the field
    assert not MapVersion.objects.exists() and not AuditEvent.objects.filter(verb="save_service_map").exists()
    if field == "note":
        assert _textarea(body).replace("&gt;", ">") == MAP  # what was written is kept


def test_a_stale_save_shows_the_conflict_keeps_the_text_and_then_builds_on_the_newer_version(cast, client):
    saved(cast)
    client.force_login(cast.manager)
    _body(client, reverse("maps:edit", args=[cast.service.slug]))  # the manager opens version 1 …
    saved(cast, MAP + "note Renewals move online [0.3, 0.2]\n", note="Renewals", actor=cast.team_member)  # … Tia saves 2
    mine = MAP + "component Kerb sensors [0.5, 0.2]\n"
    response = client.post(reverse("maps:edit", args=[cast.service.slug]), _post(cast, 1, text=mine))
    assert response.status_code == 409
    body = response.content.decode()
    assert "Tia Team saved version 2 of this map" in body and "(“Renewals”)" in body
    assert "Renewals move online" in body  # their version is shown to merge from
    errors = body[body.index('id="id_text_error"'):]
    assert "Tia Team saved version 2 while you were writing." in errors[:errors.index("</div>")]
    assert _textarea(body).replace("&gt;", ">") == mine
    assert MapVersion.objects.count() == 2
    assert _hidden_number(body) == "2"  # having seen it, the next save builds on version 2
    response = client.post(reverse("maps:edit", args=[cast.service.slug]), _post(cast, 2, text=mine))
    assert response.status_code == 302
    assert MapVersion.objects.get(number=3).text == mine


def test_the_preview_draws_the_text_and_lists_the_lines_not_understood(cast, client):
    client.force_login(cast.team_member)
    response = client.post(reverse("maps:preview", args=[cast.service.slug]), {"text": WITH_A_BAD_LINE},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # a fragment for htmx to swap in
    svg = body[body.index("<svg"):body.index("</svg>") + 6]
    ET.fromstring(svg)
    assert "Identity" in svg and "Resident" in svg
    assert "3 components." in body  # the kerb sensors' line drew nothing
    assert "1 line was not understood." in body
    assert re.search(rf"Line {BAD_LINE}:</span>component “Kerb sensors”: the position must be two numbers", body)
    response = client.post(reverse("maps:preview", args=[cast.service.slug]), {"text": MAP})
    assert "Every line understood." in response.content.decode()
    assert not MapVersion.objects.exists()


def test_the_preview_button_works_without_script_and_saves_nothing(cast, client):
    client.force_login(cast.manager)
    data = _post(cast, 0, text=WITH_A_BAD_LINE)
    del data["save"]
    data["preview"] = "1"
    response = client.post(reverse("maps:edit", args=[cast.service.slug]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Line {BAD_LINE}:" in body and "<svg" in body
    assert _textarea(body).replace("&gt;", ">") == WITH_A_BAD_LINE
    assert not MapVersion.objects.exists()


def test_a_decommissioned_service_keeps_its_map_but_offers_no_editor(cast, client):
    from osom.network.models import Service

    saved(cast)
    # decommissioning takes a whole assessment; only its outcome matters here
    Service.objects.filter(pk=cast.service.pk).update(lifecycle_stage="decommissioned")
    cast.service.refresh_from_db()
    client.force_login(cast.manager)
    body = _body(client, reverse("maps:map", args=[cast.service.slug]))
    assert "Version 1" in body and "Change the map" not in body
    assert "Change the map" not in _panel(cast, cast.manager)
    response = client.get(reverse("maps:edit", args=[cast.service.slug]))
    assert response.status_code == 302
    assert MapVersion.objects.count() == 1


def test_the_service_page_carries_the_map_panel_in_its_side_column(cast, client):
    client.force_login(cast.team_member)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    aside = body[body.index('class="aside"'):]
    assert 'id="map-h">Wardley map</h2>' in aside and "Draw this service's map" in aside
    saved(cast)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    panel = body[body.index('id="map-h"'):body.index("</section>", body.index('id="map-h"'))]
    assert "<svg" in panel and "Version 1, saved" in panel and "Every line understood" in panel
    assert f'href="{reverse("maps:edit", args=[cast.service.slug])}">Change the map</a>' in panel
    assert f'href="{reverse("maps:impact", args=[cast.service.slug])}"' in panel
