"""Signing in: Argon2 hashes, and throttling after repeated failures."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.urls import reverse

from osom.core.models import SignInFailure
from osom.core.signin import MAX_FAILURES

from ..conftest import PASSWORD


def _sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_passwords_are_hashed_with_argon2_in_the_application():
    # the tests swap in a fast hasher; the application's own first choice is Argon2
    from osom import settings as app_settings

    assert app_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.SESSION_COOKIE_HTTPONLY


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong(cast, client):
    response = _sign_in(client, cast.manager.email, "not-the-password")
    assert response.status_code == 200
    assert "The email address or password is not right" in response.content.decode()
    assert SignInFailure.objects.filter(email=cast.manager.email).count() == 1


def test_repeated_failures_lock_out_that_address_even_with_the_right_password(cast, client):
    for _ in range(MAX_FAILURES):
        _sign_in(client, cast.manager.email, "guess")
    response = _sign_in(client, cast.manager.email, PASSWORD)
    assert response.status_code == 200
    assert "Too many attempts to sign in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # someone else is not locked out by those failures
    response = _sign_in(client, cast.outsider.email, PASSWORD)
    assert response.status_code == 302


def test_a_right_password_before_the_limit_signs_in(cast, client):
    for _ in range(MAX_FAILURES - 1):
        _sign_in(client, cast.manager.email, "guess")
    assert _sign_in(client, cast.manager.email, PASSWORD).status_code == 302


def test_behind_a_proxy_failures_are_counted_per_client_not_per_proxy(cast, client, settings):
    settings.OSOM_BEHIND_PROXY = True
    for i in range(MAX_FAILURES * 4):  # many people mistyping, all through the one proxy
        client.post(reverse("login"), {"username": f"someone{i}@example.org", "password": "x"},
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    response = client.post(reverse("login"), {"username": cast.outsider.email, "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="10.0.1.1")
    assert response.status_code == 302
    assert set(SignInFailure.objects.values_list("address", flat=True)) == {f"10.0.0.{i}" for i in range(MAX_FAILURES * 4)}


def test_failures_from_elsewhere_do_not_lock_someone_out(cast, client):
    for i in range(MAX_FAILURES):  # a stranger, somewhere else, guessing
        client.post(reverse("login"), {"username": cast.manager.email, "password": "guess"}, REMOTE_ADDR="192.0.2.7")
    assert _sign_in(client, cast.manager.email, PASSWORD).status_code == 302
