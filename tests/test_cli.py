"""The ``osom`` command: writes act as a named person, checked and audited."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from osom.cli import main
from osom.core.models import ApiToken, AuditEvent, Person


def test_the_first_person_must_be_the_executive(db, capsys):
    assert main(["createperson", "first@example.org", "--role", "member"]) == 2
    assert "must be its executive" in capsys.readouterr().err
    assert Person.objects.count() == 0
    assert main(["createperson", "chief@example.org", "--role", "executive", "--name", "Chief Person"]) == 0
    chief = Person.objects.get()
    assert chief.role == "executive" and chief.name == "Chief Person"
    assert AuditEvent.objects.filter(verb="create_person").count() == 1


def test_createperson_acts_as_a_named_person_and_refuses_those_who_may_not(cast, capsys):
    events = AuditEvent.objects.count()
    code = main(["createperson", "new@example.org", "--as", cast.outsider.email])
    assert code == 2
    assert "Only the Executive may add people" in capsys.readouterr().err
    assert not Person.objects.filter(email="new@example.org").exists()
    assert AuditEvent.objects.count() == events

    assert main(["createperson", "new@example.org", "--role", "executive-team", "--areas", "security",
                 "--as", cast.exec_team.email]) == 0
    person = Person.objects.get(email="new@example.org")
    assert person.role == "executive_team" and person.areas_of_interest == "security"
    event = AuditEvent.objects.latest("id")
    assert event.actor == cast.exec_team and event.authority_person == cast.executive


def test_createperson_without_saying_who_acts_is_refused_once_people_exist(cast, capsys):
    assert main(["createperson", "new@example.org"]) == 2
    assert "--as" in capsys.readouterr().err


def test_createperson_with_a_bad_email_names_the_field(cast, capsys):
    assert main(["createperson", "not-an-email", "--as", cast.executive.email]) == 2
    err = capsys.readouterr().err
    assert "is not an email address" in err and "(email)" in err


def test_token_prints_a_token_that_authenticates(cast, capsys):
    assert main(["token", cast.manager.email, "--days", "7"]) == 0
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("osom_")
    assert ApiToken.authenticate(raw) == cast.manager
    assert AuditEvent.objects.filter(verb="issue_api_token", actor=cast.manager).count() == 1


def test_token_for_an_unknown_person_is_refused(cast, capsys):
    assert main(["token", "nobody@example.org"]) == 2
    assert "There is no one with the email address" in capsys.readouterr().err


def test_check_passes_on_a_migrated_database(db, capsys):
    assert main(["check"]) == 0
    assert "up to date" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_the_app_on_a_fresh_sqlite_database(tmp_path):
    """One command runs it: `osom serve` migrates an empty database and answers."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "OSOM_DATABASE_URL"}
    env["OSOM_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.Popen([sys.executable, "-m", "osom.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"osom serve did not answer: {proc.stdout.read() if proc.poll() is not None else 'timed out'}")
                time.sleep(0.3)
        assert "Sign in" in body
        database = Path(env["OSOM_DATA_DIR"]) / "osom.sqlite3"
        with sqlite3.connect(database) as db:
            # the embedded database runs in write-ahead-log mode
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/osom/site.css", timeout=5) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
