"""WSGI entry point: ``gunicorn osom.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osom.settings")
application = get_wsgi_application()

# every view loaded now, and what is then in memory set aside from the cycle collector
from osom.core.kept import ready_to_serve  # noqa: E402 (once Django is set up)

ready_to_serve()
