"""Speed-only overrides for the test suite (STYLE R17)."""

from __future__ import annotations

import os

os.environ.setdefault(
    "SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef"
)
os.environ.setdefault(
    "ENCRYPTION_KEYS", "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)
os.environ.setdefault("AUDIT_CHAIN_KEY", "test-audit-chain-key")
os.environ.setdefault("CODE_HASH_KEY", "test-code-hash-key")

from .settings import *  # noqa: F403
from .settings import VAR_DIR

# Fast hashing in tests (Argon2id in production is checked by its own test).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise would scan every static file for each test client; the live
# server of browser tests serves static files itself.
WHITENOISE_USE_FINDERS = False
STATIC_ROOT = VAR_DIR / "test-static-empty"
MEDIA_ROOT = VAR_DIR / "test-files"
STORAGES["default"] = {
    "BACKEND": "lib.storage.EncryptedFileSystemStorage",
    "OPTIONS": {"location": str(MEDIA_ROOT)},
}
OUTBOX_DIR = VAR_DIR / "test-outbox"
CELERY_TASK_ALWAYS_EAGER = True
