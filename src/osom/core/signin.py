"""Signing in, with throttling: after repeated failures for one address, or from one
place, further attempts are refused for a while, whatever password is tried.

Failures are kept in the database, so every app process sees the same count."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from .models import SignInFailure

__all__ = ["ThrottledAuthenticationForm", "MAX_FAILURES", "WINDOW"]

MAX_FAILURES = int(getattr(settings, "OSOM_SIGNIN_MAX_FAILURES", 5))
WINDOW = timedelta(minutes=int(getattr(settings, "OSOM_SIGNIN_WINDOW_MINUTES", 15)))


def _client_address(request) -> str:
    """Where the attempt came from. Behind a reverse proxy every request comes from the
    proxy; with OSOM_BEHIND_PROXY set, the address the proxy appended to
    X-Forwarded-For (the last one, which the client cannot forge) is used instead."""
    if request is None:
        return ""
    if getattr(settings, "OSOM_BEHIND_PROXY", False):
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1][:45]
    return (request.META.get("REMOTE_ADDR") or "")[:45]


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email address or password is not right. Check both and try again.",
        "throttled": "Too many attempts to sign in. Wait %(minutes)s minutes, then try again.",
    }

    def clean(self):
        email = (self.data.get("username") or "").strip().lower()
        address = _client_address(self.request)
        since = timezone.now() - WINDOW
        recent = SignInFailure.objects.filter(at__gte=since)
        # guessing from one place at one account stops soon; an account attacked from many
        # places, or one place trying many accounts, later — so a stranger cannot lock
        # someone out of their account with a handful of wrong passwords
        if (recent.filter(email=email, address=address).count() >= MAX_FAILURES
                or recent.filter(email=email).count() >= MAX_FAILURES * 10
                or (address and recent.filter(address=address).count() >= MAX_FAILURES * 4)):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled",
                                        params={"minutes": int(WINDOW.total_seconds() // 60)})
        try:
            return super().clean()
        except forms.ValidationError:
            SignInFailure.objects.create(email=email[:254], address=address)
            SignInFailure.objects.filter(at__lt=timezone.now() - 4 * WINDOW).delete()
            raise
