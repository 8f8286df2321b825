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
    # behind a proxy, REMOTE_ADDR is the proxy; the deployment guide sets it right
    return (request.META.get("REMOTE_ADDR") or "")[:45] if request is not None else ""


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
        if (recent.filter(email=email).count() >= MAX_FAILURES
                or (address and recent.filter(address=address).count() >= MAX_FAILURES * 4)):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled",
                                        params={"minutes": int(WINDOW.total_seconds() // 60)})
        try:
            return super().clean()
        except forms.ValidationError:
            SignInFailure.objects.create(email=email[:254], address=address)
            SignInFailure.objects.filter(at__lt=timezone.now() - 4 * WINDOW).delete()
            raise
