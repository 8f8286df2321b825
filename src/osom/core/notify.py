"""Telling people what concerns them: a notification in the app and an email.

Called by actions inside their transaction as part of the act (no audit event of its
own); the email goes only once the transaction has committed."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from .models import Notification

__all__ = ["notify"]


def notify(people, text: str, link: str = "", *, subject: str | None = None, body: str | None = None) -> int:
    """Notify each distinct, active person in ``people``; returns how many were told."""
    recipients = {p.pk: p for p in people if p is not None and p.is_active}
    if not recipients:
        return 0
    Notification.objects.bulk_create([Notification(person=p, text=text[:400], link=link) for p in recipients.values()])
    site = getattr(settings, "OSOM_BASE_URL", "").rstrip("/")
    message = (body or text) + (f"\n\n{site}{link}" if link and site else (f"\n\n{link}" if link else ""))
    mails = [((subject or text)[:150], message, settings.DEFAULT_FROM_EMAIL, [p.email]) for p in recipients.values()]
    transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    return len(recipients)
