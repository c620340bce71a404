# Mon espace santé: one image for every app process (web, worker, beat, migrate).
# See docker-compose.yml for how they are wired.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=config.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

# WeasyPrint's native libraries (Pango, HarfBuzz subsetting for small, fast PDFs)
# and a font for the letters.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, cached while pyproject.toml does not change. The project
# declares `packages = []`: installing it only pulls the dependencies, and the
# code runs from this tree (manage.py, config.wsgi).
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected into the image so every web replica serves the
# same WhiteNoise manifest. Settings refuse to load without secrets: these
# throwaway values exist only for this build step and are never used at run time.
RUN SECRET_KEY=build-only ENCRYPTION_KEYS=1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
        AUDIT_CHAIN_KEY=build-only CODE_HASH_KEY=build-only \
        python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var/outbox \
    && chown -R app:app /app/var

# The code stays owned by root: the app user can write only to /app/var.
USER app

EXPOSE 8000

# Access log without paths: URLs may carry ids or one-time tokens (password
# reset links); the request id ties a line to the audit log instead.
CMD ["gunicorn", "config.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", "--timeout=60", "--worker-tmp-dir=/dev/shm", "--access-logfile=-", "--access-logformat=%(t)s \"%(m)s\" %(s)s %(B)s %(M)sms req=%({x-request-id}o)s"]
