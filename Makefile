# Mon espace santé — two commands on a fresh machine: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system-deps run web worker beat migrate seed test test-fast lint fmt typecheck check bench clean messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Debian packages: Chromium for browser tests, HarfBuzz subsetting for fast PDFs.
system-deps:
	@bash bin/system-deps

migrate: install
	DEV_SECRETS=True $(PY) manage.py migrate --noinput

seed: migrate
	DEV_SECRETS=True $(PY) manage.py seed_demo

# Web server + Celery worker with beat, on the embedded defaults (or
# DATABASE_URL / REDIS_URL when set). Ctrl-C stops everything.
run: install
	@DEV_SECRETS=True PY=$(PY) bash bin/run

web: install
	DEV_SECRETS=True $(PY) manage.py runserver

worker: install
	DEV_SECRETS=True $(VENV)/bin/celery -A config worker -l info

beat: install
	DEV_SECRETS=True $(VENV)/bin/celery -A config beat -l info

test: install system-deps
	$(PY) -m pytest --ds=config.settings_test -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest --ds=config.settings_test -n 2 -m "not browser" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install
	$(VENV)/bin/mypy .

check: lint typecheck test

bench: install
	$(PY) bench/run.py

clean:
	rm -rf var/test-files var/test-outbox

# The French catalogue: new strings collected, each msgstr copied from its
# msgid (French plurals: 0 and 1 singular), compiled. Needs gettext.
messages: install
	DEV_SECRETS=True $(PY) manage.py makemessages -l fr --ignore=.venv --ignore=var --ignore=bench --ignore=tests --ignore="*/tests/*"
	msgen locale/fr/LC_MESSAGES/django.po -o locale/fr/LC_MESSAGES/django.po
	DEV_SECRETS=True $(PY) manage.py compilemessages -l fr --ignore=.venv
