"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # a clean environment: none of this suite's own settings (nor the browser tests' switches)
    environment = {k: v for k, v in os.environ.items()
                   if (not k.startswith(("OSOM_", "DJANGO_")) or k == "OSOM_DATA_DIR")}
    environment.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], capture_output=True, text=True, env=environment,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=120)


def test_deployment_checks_are_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", OSOM_ENV="production",
                     OSOM_SECRET_KEY="x" * 20 + "a-long-random-production-secret-0123456789",
                     OSOM_ALLOWED_HOSTS="osom.example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_says_what_is_missing():
    result = _manage("check", OSOM_ENV="production", OSOM_ALLOWED_HOSTS="osom.example.org")
    assert result.returncode != 0
    assert "OSOM_SECRET_KEY must be set" in result.stderr


def test_an_unknown_database_scheme_is_refused_clearly():
    result = _manage("check", OSOM_DATABASE_URL="mysql://root@localhost/osom")
    assert result.returncode != 0
    assert "OSOM_DATABASE_URL has an unknown scheme" in result.stderr
