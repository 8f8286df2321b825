"""Settings, all read from the environment.

Development defaults are safe and need nothing set: SQLite in ``./data``, DEBUG on.
With ``OSOM_ENV=production`` every secret must come from the environment, and a
missing one stops the app with a clear ``ImproperlyConfigured`` message.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
ENV = os.environ.get("OSOM_ENV", "development").lower()
PRODUCTION = ENV == "production"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when OSOM_ENV=production (see docs/configuration.md)."
        )
    return value


DATA_DIR = Path(os.environ.get("OSOM_DATA_DIR", Path.cwd() / "data")).resolve()

if PRODUCTION:
    SECRET_KEY = _required("OSOM_SECRET_KEY")
    DEBUG = _env_bool("OSOM_DEBUG", False)
    ALLOWED_HOSTS = [h.strip() for h in _required("OSOM_ALLOWED_HOSTS").split(",") if h.strip()]
else:
    SECRET_KEY = os.environ.get(
        "OSOM_SECRET_KEY", "development-only-key-never-used-in-production-0123456789abcdef"
    )
    DEBUG = _env_bool("OSOM_DEBUG", True)
    ALLOWED_HOSTS = [
        h.strip()
        for h in os.environ.get("OSOM_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
        if h.strip()
    ]

CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("OSOM_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]


def database_from_url(url: str | None) -> dict:
    """Turn ``OSOM_DATABASE_URL`` into a Django DATABASES entry (SQLite when unset)."""
    if not url or url.startswith("sqlite"):
        if url and url.startswith("sqlite:///"):
            path = Path(unquote(url[len("sqlite:///"):]))
            if not path.is_absolute():
                path = Path.cwd() / path
        else:
            path = DATA_DIR / "osom.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the
                # write lock at BEGIN, so two writers queue instead of failing mid-way.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": os.environ.get("OSOM_TEST_SQLITE") or None},
        }
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ImproperlyConfigured(
            f"OSOM_DATABASE_URL has an unknown scheme {parsed.scheme!r}: use sqlite:/// or postgresql://"
        )
    options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "osom",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": int(os.environ.get("OSOM_DB_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


DATABASES = {"default": database_from_url(os.environ.get("OSOM_DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "osom.core",
    "osom.network",
    "osom.learning",
    "osom.lifecycle",
    "osom.governance",
    "osom.fitness",
    "osom.maps",
    "osom.interop",
    "osom.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "osom.core.middleware.LoginRequiredEverywhere",
    "osom.core.orgcache.OrganisationPerRequest",
]

ROOT_URLCONF = "osom.urls"
WSGI_APPLICATION = "osom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "osom.core.context.terminology",
            ],
            "builtins": ["osom.core.templatetags.osom"],
        },
    }
]

AUTH_USER_MODEL = "core.Person"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "network:list"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("OSOM_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("OSOM_STATIC_ROOT", DATA_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production the app serves static files straight from the packages, so
# `osom serve` works without a collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = os.environ.get(
    "OSOM_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("OSOM_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("OSOM_EMAIL_PORT", "25"))
EMAIL_TIMEOUT = int(os.environ.get("OSOM_EMAIL_TIMEOUT", "10"))  # a slow mail server never stalls a page for long
DEFAULT_FROM_EMAIL = os.environ.get("OSOM_FROM_EMAIL", "osom@localhost")
# The address people reach the app at, for links in emails (e.g. https://osom.example.org)
OSOM_BASE_URL = os.environ.get("OSOM_BASE_URL", "")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("OSOM_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("OSOM_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("OSOM_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OSOM_LOG_LEVEL", "WARNING")},
}

# Behind a reverse proxy (nginx…) that appends the client's address to X-Forwarded-For:
# sign-in throttling then counts failures per client, not per proxy.
OSOM_BEHIND_PROXY = _env_bool("OSOM_BEHIND_PROXY", False)

# How many rows a list page shows.
PAGE_SIZE = int(os.environ.get("OSOM_PAGE_SIZE", "50"))
