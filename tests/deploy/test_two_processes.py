"""Two app processes on two ports sharing one PostgreSQL database, as two app servers
behind a load balancer would: a session begun on one is good on the other, the same
contract draft edited on both at once is caught, never silently overwritten, and what one
process keeps between requests (a period's capital flow) shows what the other writes.

The processes are gunicorn serving ``osom.wsgi`` with production settings, against a
database of this module's own (pytest-django's test database lives inside a transaction
the processes could not see). Its data is made with the ``osom`` command and the API, so
through the actions. Requests carry what the reverse proxy adds
(``X-Forwarded-Proto: https``) and, for forms, the ``Referer`` a browser sends.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import load  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

PASSWORD = "two-servers-one-database"


def _postgres_server() -> str | None:
    url = os.environ.get("OSOM_DATABASE_URL", "")
    return load.server_url(url) if urlparse(url).scheme in {"postgres", "postgresql", "postgresql+psycopg"} else None


pytestmark = pytest.mark.skipif(
    _postgres_server() is None,
    reason="two app processes share a PostgreSQL database; runs when OSOM_DATABASE_URL names one (CI's second run)",
)


def _contract(name: str) -> dict:
    return {
        "name": name, "user_type": "external", "evolution_stage": "custom",
        "purpose": f"{name} lets residents do one thing well.", "benefit": "Saves time.", "usage": "Online.",
        "onboarding": "Ask the team.", "expectations": "Office hours.", "support": "Raise a ticket.",
        "metrics": [{"key": "done", "name": "Done first time", "unit": "%", "direction": "higher", "target": "90"}],
        "needs": [{"as_a": "resident", "i_need": "to apply online", "so_that": "I do not queue", "metrics": ["done"]}],
    }


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    """Process A and process B, same secret key, same database; stopped afterwards,
    whatever happened."""
    server = _postgres_server()
    name = f"osom_two_processes_{os.getpid()}"
    url = load.create_database(server, name)
    env = load.app_env(url, tmp_path_factory.mktemp("two-processes"), secrets.token_urlsafe(50))
    apps = []
    try:
        load.osom(env, "migrate")
        load.osom({**env, "OSOM_NEW_PASSWORD": PASSWORD}, "createperson", "chief@example.org", "--role",
                  "executive", "--name", "Chris Chief")
        load.osom({**env, "OSOM_NEW_PASSWORD": PASSWORD}, "createperson", "max@example.org", "--name",
                  "Max Manager", "--as", "chief@example.org")
        token = load.osom(env, "token", "chief@example.org").split()[0]
        load.osom(env, "manage", "collectstatic", "--noinput", "--verbosity", "0")
        for label in ("a", "b"):
            apps.append(load.Gunicorn(env, workers=1, threads=2,
                                      log=Path(env["OSOM_DATA_DIR"]) / f"gunicorn-{label}.log").start())
        yield {"a": apps[0], "b": apps[1], "token": token, "env": env}
        for app in apps:
            assert app.stop() == 0, f"gunicorn on port {app.port} did not stop cleanly"
    finally:
        for app in apps:
            app.stop()
        load.drop_database(server, name)


def _form(body: bytes, action_ends: str = "", having: str = "csrfmiddlewaretoken") -> dict:
    """The fields of the page's first POST form to …``action_ends`` with a field ``having``."""
    forms = [f for f in load.forms_in(body.decode())
             if f["method"] == "post" and f["action"].endswith(action_ends) and having in f["fields"]]
    assert forms, f"no form posting to …{action_ends} with {having} on the page"
    return forms[0]["fields"]


def test_a_session_begun_on_one_process_is_good_on_the_other(two_servers):
    a, b = two_servers["a"], two_servers["b"]
    on_a = load.Browser(a.port)
    on_a.sign_in("chief@example.org", PASSWORD)

    stranger = load.Browser(b.port)
    status, headers, _ = stranger.get("/dashboard/")
    assert status == 302 and headers["location"].startswith("/accounts/login/")  # B asks for a sign-in…

    on_b = load.Browser(b.port)
    on_b.cookies = dict(on_a.cookies)  # …unless the browser brings A's session cookie
    status, _, body = on_b.get("/dashboard/")
    assert status == 200
    assert "Chris Chief" in body.decode()

    # a form on B accepts the CSRF token A's page gave: the same secret key on both
    status, _, body = on_a.get("/organisation/")
    assert status == 200
    fields = _form(body)
    status, _, body = on_b.post_form("/accounts/logout/", {"csrfmiddlewaretoken": fields["csrfmiddlewaretoken"]})
    assert status == 302
    status, headers, _ = on_a.get("/dashboard/")  # signed out on B: signed out on A too
    assert status == 302 and headers["location"].startswith("/accounts/login/")


def test_the_same_draft_edited_on_both_processes_at_once_keeps_the_first_edit(two_servers):
    a, b = two_servers["a"], two_servers["b"]
    api = load.Browser(a.port, token=two_servers["token"])
    status, _, body = api.send_json("POST", "/api/v1/services",
                                    {**_contract("Parking permits"), "manager": "max@example.org"})
    assert status == 201, body
    slug = load.json.loads(body)["slug"]

    chief = load.Browser(a.port)
    chief.sign_in("chief@example.org", PASSWORD)
    manager = load.Browser(b.port)
    manager.sign_in("max@example.org", PASSWORD)

    # the manager opens a draft on B
    status, _, body = manager.get(f"/services/{slug}/")
    assert status == 200
    status, headers, _ = manager.post_form(f"/services/{slug}/draft/", _form(body, "/draft/"),
                                           referer=f"/services/{slug}/")
    assert status == 302
    edit = headers["location"]
    assert edit.endswith("/edit/"), edit

    # both open the editor at the same revision…
    status, _, page_a = chief.get(edit)
    assert status == 200
    status, _, page_b = manager.get(edit)
    assert status == 200
    form_a, form_b = _form(page_a, having="revision"), _form(page_b, having="revision")
    assert form_a["revision"] == form_b["revision"]

    # …the chief saves first, on A
    status, headers, _ = chief.post_form(edit, {**form_a, "purpose": "Chief's purpose, saved first on A."})
    assert status == 302, "the first edit is saved and redirects to the version"

    # the manager's save on B, based on the revision both read, is refused, not applied
    status, _, body = manager.post_form(edit, {**form_b, "purpose": "Max's purpose, saved second on B."})
    assert status == 200
    assert "was changed by someone else since you opened it" in body.decode()

    number = edit.rstrip("/").split("/")[-2]
    status, _, body = api.get(f"/api/v1/services/{slug}/versions/{number}")
    assert status == 200
    version = load.json.loads(body)
    assert version["purpose"] == "Chief's purpose, saved first on A."
    assert version["revision"] == int(form_a["revision"]) + 1

    # reloading on B shows the chief's edit, to make the change again on top of it
    status, _, page = manager.get(edit)
    assert status == 200
    reloaded = _form(page, having="revision")
    assert reloaded["purpose"] == "Chief's purpose, saved first on A."
    assert reloaded["revision"] == str(version["revision"])


def test_a_capital_flow_kept_by_one_process_shows_what_the_other_writes(two_servers):
    """Process A keeps the capital flow of a period between requests; a write through B
    moves the audit chain A checks at each request, so A's next answer has it."""
    from decimal import Decimal

    a, b = two_servers["a"], two_servers["b"]
    chief = load.Browser(a.port, token=two_servers["token"])
    status, _, body = chief.send_json("POST", "/api/v1/services", {**_contract("Bulky waste"), "manager": "max@example.org"})
    assert status == 201, body
    slug = load.json.loads(body)["slug"]
    status, _, body = chief.send_json("POST", f"/api/v1/services/{slug}/allocations", {"period": "2026-27", "amount": "1000"})
    assert status == 201, body
    allocation = load.json.loads(body)["id"]
    manager_token = load.osom(two_servers["env"], "token", "max@example.org").split()[0]
    manager_on_a = load.Browser(a.port, token=manager_token)
    manager_on_b = load.Browser(b.port, token=manager_token)
    status, _, body = manager_on_a.send_json("POST", f"/api/v1/allocations/{allocation}/spends",
                                             {"amount": "250", "description": "Collection rounds"})
    assert status == 201, body

    def row_on_a() -> dict:
        status, _, body = chief.get("/api/v1/capital-flow/2026-27")
        assert status == 200, body
        (row,) = [r for r in load.json.loads(body)["items"] if r["service"]["slug"] == slug]
        return row

    first = row_on_a()
    assert Decimal(first["fully_loaded"]) == 250 and first["transactions"] is None
    assert row_on_a() == first  # kept: nothing written since
    # the manager records the period's transactions and more spending through B
    status, _, body = manager_on_b.send_json("PUT", f"/api/v1/services/{slug}/transactions/2026-27", {"transactions": 100})
    assert status == 200, body
    after_transactions = row_on_a()
    assert after_transactions["transactions"] == 100 and Decimal(after_transactions["cost_per_transaction"]) == Decimal("2.5")
    status, _, body = manager_on_b.send_json("POST", f"/api/v1/allocations/{allocation}/spends",
                                             {"amount": "50", "description": "A new van"})
    assert status == 201, body
    after_spend = row_on_a()
    assert Decimal(after_spend["fully_loaded"]) == 300 and Decimal(after_spend["cost_per_transaction"]) == 3


def test_a_port_taken_after_it_was_chosen_is_given_up_for_another(two_servers, monkeypatch):
    """Between choosing a free port and gunicorn binding it another program may take it:
    gunicorn then ends at start, and the app is started again on another free port."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        chosen = iter([taken])
        any_free = load.free_port
        monkeypatch.setattr(load, "free_port", lambda: next(chosen, None) or any_free())
        app = load.Gunicorn(two_servers["env"], workers=1, threads=1).start()
        try:
            assert app.port != taken
            status, _, body = load.Browser(app.port).get("/healthz")
            assert (status, body) == (200, b"ok")
        finally:
            assert app.stop() == 0
