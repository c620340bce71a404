"""The one settings module (STYLE R17): production behaviour is switched by env vars.

Every variable is listed in `.env.example`. With no environment at all the app
runs on embedded defaults: SQLite, a filesystem Celery broker, encrypted files
on disk, and an outbox folder for e-mails, SMS and letters (`var/`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from lib.env import envbool, envint, envlist, envsecret, envstr

# Generic Django classes (ModelAdmin[Model], …) are subscriptable at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
# DEV_SECRETS=True (set by `make run`) creates missing secrets under var/ once.
DEV_SECRETS = envbool("DEV_SECRETS", False)


def _secret(name: str, make: Callable[[], str]) -> str:
    value = envsecret(name)
    if value:
        return value
    if not DEV_SECRETS:
        raise ImproperlyConfigured(f"{name} is required (or set DEV_SECRETS=True)")
    path = VAR_DIR / "dev-secrets" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _new_key() -> str:
    from lib.crypto import Keyring

    return Keyring.generate_key()


SECRET_KEY = _secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
# Master keys for envelope encryption (SEC-5): "2:<base64>,1:<base64>".
# The highest version encrypts; older ones stay until `rotate_keys` has run.
ENCRYPTION_KEYS = _secret("ENCRYPTION_KEYS", lambda: "1:" + _new_key())
# Key of the audit hash chain (SEC-4): entries are HMAC-signed at creation.
AUDIT_CHAIN_KEY = _secret("AUDIT_CHAIN_KEY", lambda: secrets.token_urlsafe(32))
# Key of the keyed hashes of provisional codes (LC-3).
CODE_HASH_KEY = _secret("CODE_HASH_KEY", lambda: secrets.token_urlsafe(32))


SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_email",
    "axes",
    "csp",
    "dsfr",
    "widget_tweaks",
    "rest_framework",
    "drf_spectacular",
    "audit",
    "espace",
    "consent",
    "dmp",
    "messagerie",
    "agenda",
    "catalogue",
]

MIDDLEWARE = [
    "lib.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "lib.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "lib.middleware.MethodNotAllowedPageMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "lib.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "espace.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "espace.context_processors.portal",
                "messagerie.context_processors.unread_messages",
            ],
        },
    },
]

# ------------------------------------------------------------------ database
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker share the file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock at BEGIN (serialises audit appends).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "espace.User"

# ------------------------------------------------------------------ cache
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# ------------------------------------------------------------------ celery
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
else:
    # Redelivery after a worker crash: the visibility timeout must exceed the
    # longest task. Jobs also re-queue their own stale work (SEC-6).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
# LC-2: information messages queued per day (letters and e-mails).
INFORMATION_DAILY_CAP = envint("INFORMATION_DAILY_CAP", 50_000)
# DMP-2: uploads. The patient's limit is the service's (5 MB); the
# professionals' one is not published (reference §2.3): configurable.
DMP_PATIENT_MAX_BYTES = 5 * 1024 * 1024
DMP_PROFESSIONAL_MAX_BYTES = envint("DMP_PROFESSIONAL_MAX_BYTES", 20 * 1024 * 1024)
# CONS-6: how long an emergency access opens the DMP to its professional.
EMERGENCY_ACCESS_MINUTES = envint("EMERGENCY_ACCESS_MINUTES", 60)
# LC-11: the one-off campaign asking former opposers holding a pre-2022 DMP to
# confirm: oppositions recorded before this date (AAAA-MM-JJ) are asked once.
# Empty: no campaign.
_legacy_campaign = envstr("LEGACY_CONFIRMATION_OPPOSED_BEFORE", "")
LEGACY_CONFIRMATION_OPPOSED_BEFORE = (
    datetime.fromisoformat(_legacy_campaign).replace(tzinfo=UTC)
    if _legacy_campaign
    else None
)

# ------------------------------------------------------------------ storage
STORAGE_BACKEND = envstr("STORAGE_BACKEND", "local")
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "files")))
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "lib.storage.EncryptedS3Storage",
        "OPTIONS": {
            "bucket_name": envstr("S3_BUCKET", "mes-files"),
            "endpoint_url": envstr("S3_ENDPOINT_URL") or None,
            "access_key": envsecret("S3_ACCESS_KEY"),
            "secret_key": envsecret("S3_SECRET_KEY"),
            "region_name": envstr("S3_REGION", "eu-west-3"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {
        "BACKEND": "lib.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
else:
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'")
STATIC_COLLECTED = envbool("STATIC_COLLECTED", True)
STORAGES = {
    "default": _default_storage,
    # Production images collect static files once, hashed and pre-compressed.
    # `make run` skips that (minutes over the design system's 1,600 files) and
    # serves them straight from the apps' folders.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_COLLECTED
# Uploads are streamed to temporary files beyond 2.5 MiB, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# DMP-2: an oversize file is skipped as it arrives, never written to disk.
FILE_UPLOAD_HANDLERS = [
    "lib.upload_handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# ------------------------------------------------------------------ outbox
OUTBOX_DIR = Path(envstr("OUTBOX_DIR", str(VAR_DIR / "outbox")))
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "lib.outbox.OutboxEmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr(
    "DEFAULT_FROM_EMAIL", "Mon espace santé <ne-pas-repondre@monespacesante.example>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ------------------------------------------------------------------ i18n
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------ accounts
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",  # Argon2id
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "espace:login"
LOGIN_REDIRECT_URL = "espace:home"
PASSWORD_RESET_TIMEOUT = 3600

# Brute force (SEC-3, LC-7): django-axes checks before the password hash.
# Locking on the (identifier, address) pair stops guessing without letting a
# stranger lock a victim out from elsewhere (ASVS 6.1.1).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "espace/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_SENSITIVE_PARAMETERS = ["password", "code", "token"]

# One-time codes (SEC-2): single use; e-mail codes live 10 minutes at most.
OTP_EMAIL_TOKEN_VALIDITY = 600
OTP_EMAIL_SUBJECT = "Votre code de connexion Mon espace santé"
OTP_EMAIL_BODY_TEMPLATE_PATH = "emails/otp-body.txt"
OTP_EMAIL_BODY_HTML_TEMPLATE_PATH = "emails/otp-body.html"
OTP_EMAIL_THROTTLE_FACTOR = 1
OTP_EMAIL_COOLDOWN_DURATION = 30
OTP_TOTP_ISSUER = "Mon espace santé"
OTP_TOTP_THROTTLE_FACTOR = 1
# Wrong one-time codes allowed before the half-done login is thrown away.
OTP_MAX_FAILURES = 5

# Sessions: inactivity timeouts per role (sliding), absolute limit.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_SECONDS = {"patient": 30 * 60, "professional": 15 * 60, "agent": 15 * 60}
SESSION_ABSOLUTE_SECONDS = 12 * 3600
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# ------------------------------------------------------------------ HTTP security (SEC-7)
HTTPS = envbool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Reverse proxies in front of the web processes (0: clients connect directly).
# Their X-Forwarded-For gives the client address used by throttling and audit.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", False) else None
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

from csp.constants import NONE, SELF  # noqa: E402

# No inline script or style anywhere: every script and style sheet is a file.

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# ------------------------------------------------------------------ API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication"
    ],
    # Deny by default (SEC-1, R11): logged in *and* past the second factor.
    "DEFAULT_PERMISSION_CLASSES": ["lib.permissions.IsVerified"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "lib.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mon espace santé API",
    "DESCRIPTION": "API REST v1 (mêmes règles d'accès que le portail)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes the API, not anyone's data: public on purpose.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# ------------------------------------------------------------------ logging
# Logs carry ids and codes only: never health content, never secrets.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

ADMINS: list[tuple[str, str]] = []
