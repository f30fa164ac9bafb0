"""Kehu settings: one module, driven by environment variables (see docs/deployment.md)."""

import importlib.util
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    # A laptop install keeps a generated key under var/; deployments set KEHU_SECRET_KEY.
    if key := os.environ.get("KEHU_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KEHU_DEBUG")
ALLOWED_HOSTS = env_list("KEHU_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("KEHU_CSRF_TRUSTED_ORIGINS", "")

# django-ninja's templates and static files (the API's documentation page) without listing it as an
# app: an app is imported when Django starts, and ninja brings pydantic and django.test with it
# (about 12 MiB per web worker); the API itself loads on a worker's first /api/ request (config/urls.py).
NINJA_DIR = Path(importlib.util.find_spec("ninja").origin).parent

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "kehu.core",
    "kehu.users",
    "kehu.webhooks",
    "kehu.notifications",
    "kehu.approvals",
    "kehu.customers",
    "kehu.activities",
    "kehu.pool",
    "kehu.classification",
    "kehu.collection",
    "kehu.integrations",
    "kehu.catalog",
    "kehu.sales",
    "kehu.leads",
    "kehu.quotes",
    "kehu.contracts",
    "kehu.orders",
    "kehu.invoices",
    "kehu.receivables",
    "kehu.dealerplans",
    "kehu.support",
    "kehu.workspace",
    "kehu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kehu.core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "kehu.core.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.users.middleware.UserLanguageMiddleware",
    "kehu.users.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kehu.users.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.core.context_processors.navigation",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]
# Django's, with <select> and <input> written in Python (the same HTML, faster).
FORM_RENDERER = "kehu.core.form_renderer.FormRenderer"

# Database: SQLite under var/ by default; DATABASE_URL switches (postgres://...).
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=None, conn_health_checks=True)
SQLITE_CACHE_KIB = max(256, int(float(os.environ.get("KEHU_SQLITE_CACHE_MIB", "16")) * 1024))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Settings that survive concurrent writers (WAL, IMMEDIATE, busy timeout).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            # A page cache per connection (KEHU_SQLITE_CACHE_MIB, 16: the board and forecast read
            # covering indexes ~20% faster than with 4); no mmap, which would count the file in each
            # worker's RSS.
            f" PRAGMA foreign_keys=ON; PRAGMA cache_size=-{SQLITE_CACHE_KIB}; PRAGMA temp_store=MEMORY;"
        ),
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kehu.users.backends.RoleBackend",
]
PASSWORD_HASHERS = [
    "kehu.core.passwords.Argon2PasswordHasher",  # 19 MiB per hash, not Django's 100 (see the module)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("KEHU_PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "kehu.users.passwords.CharacterKindsValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Login throttling: 5 failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("KEHU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "kehu.users.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto, links in emails must say https.
BEHIND_HTTPS_PROXY = env_bool("KEHU_BEHIND_HTTPS_PROXY")
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Strict-Transport-Security only where the site is served over HTTPS (off unless set: browsers
# remember it, so set it once the certificate is one they trust).
SECURE_HSTS_SECONDS = int(os.environ.get("KEHU_HSTS_SECONDS", "0")) if BEHIND_HTTPS_PROXY else 0

SESSION_COOKIE_HTTPONLY = True
# Cookies travel over HTTPS only: on by default behind an HTTPS proxy, or with KEHU_SECURE_COOKIES.
SESSION_COOKIE_SECURE = env_bool("KEHU_SECURE_COOKIES", BEHIND_HTTPS_PROXY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
# A session idle this long is signed out (0: never); SESSION_COOKIE_AGE bounds it however busy.
KEHU_SESSION_IDLE_MINUTES = int(os.environ.get("KEHU_SESSION_IDLE_MINUTES", "120"))
# The sign-in log keeps this many days (a daily job forgets older lines).
KEHU_SIGN_IN_LOG_DAYS = int(os.environ.get("KEHU_SIGN_IN_LOG_DAYS", "365"))
# A refused form gets a page in the layout, with a way back (kehu/core/errors.py).
CSRF_FAILURE_VIEW = "kehu.core.errors.csrf_failure"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

# Content-Security-Policy: scripts only from this site (no inline code or handlers: behaviours are
# data- attributes read by static/kehu/*.js), no plugins, no framing, forms post only here. Inline
# style attributes stay allowed: they cannot run code, and charts and the layout set sizes with them.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("KEHU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # zh_Hans amounts grouped by three

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", NINJA_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"


def _mailers(url: str) -> dict:
    """EMAIL_URL → MAILERS: smtp://user:pass@host:port, smtps://..., console:, file:/path."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"default": {"BACKEND": "kehu.core.console_mail.EmailBackend"}}
    if parts.scheme == "file":
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": parts.path or str(VAR_DIR / "mail")},
            }
        }
    query = parse_qs(parts.query)
    options = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "use_ssl": parts.scheme == "smtps",
        "use_tls": query.get("tls", ["0"])[0] in {"1", "true"},
        "timeout": 10,
    }
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")
    return {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}


MAILERS = _mailers(os.environ.get("EMAIL_URL", "console:"))
# Where people reach Kehu: links in work-chat messages and mails are built on it (no request there).
KEHU_BASE_URL = os.environ.get("KEHU_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("KEHU_DEFAULT_FROM_EMAIL", "Kehu <noreply@localhost>")
# Export controls (ACC-5, ADR 0007): a reason is asked above this many rows; each person makes at most
# this many exports, and this many rows, in any sixty minutes (kehu.core.exports).
KEHU_EXPORT_REASON_ROWS = int(os.environ.get("KEHU_EXPORT_REASON_ROWS", "500"))
KEHU_EXPORT_LIMIT_PER_HOUR = int(os.environ.get("KEHU_EXPORT_LIMIT_PER_HOUR", "10"))
KEHU_EXPORT_ROWS_PER_HOUR = int(os.environ.get("KEHU_EXPORT_ROWS_PER_HOUR", "50000"))

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEHU_LOG_LEVEL", "WARNING")},
}

# Ninja: the API answers errors with JSON bodies; no Django debug pages leak.
NINJA_PAGINATION_MAX_LIMIT = 200
