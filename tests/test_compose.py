"""docker-compose.yml, the Dockerfile and .env.example agree with the code.

Docker cannot run here, so these tests read the files and check every name
they use against the code: the commands (gunicorn, Celery, manage.py), the
environment variables, the health checks and the image's entry point.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands, load_command_class
from django.urls import resolve
from django.utils.module_loading import import_string
from gunicorn.config import Config as GunicornConfig

from lib.health import healthz

ROOT = Path(__file__).resolve().parent.parent

EXPECTED_SERVICES = {
    "postgres",
    "redis",
    "minio",
    "minio-init",
    "mailpit",
    "migrate",
    "web",
    "worker",
    "beat",
}
# Run once and exit: no health check, `restart: "no"`, waited for by others.
ONE_SHOT = {"minio-init", "migrate"}
# Built from the Dockerfile, configured through the `x-app` anchor.
APP_SERVICES = {"migrate", "web", "worker", "beat"}
# The secrets a production deployment must provide (no default in the file).
REQUIRED_SECRETS = {"SECRET_KEY", "ENCRYPTION_KEYS", "AUDIT_CHAIN_KEY", "CODE_HASH_KEY"}

ENV_READERS = {
    "envstr": "str",
    "envbool": "bool",
    "envint": "int",
    "envlist": "list",
    "envsecret": "secret",
    "_secret": "secret",
}
PYTHON_PROGRAMS = {"gunicorn", "celery", "python", "python3"}
# Variables the image sets for Python and pip themselves, not for settings.py.
IMAGE_ONLY_VARIABLES = {"DJANGO_SETTINGS_MODULE"}

# Importing config.wsgi builds the middleware; WhiteNoise warns when the test
# run has not collected static files, which is irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


# ------------------------------------------------------------------ reading


@cache
def settings_variables() -> dict[str, str]:
    """Every env variable config/settings.py reads, with the helper's kind."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ENV_READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found[node.args[0].value] = ENV_READERS[node.func.id]
    return found


def is_settings_variable(name: str) -> bool:
    known = settings_variables()
    if name in known:
        return True
    # envsecret also reads <NAME>_FILE (Docker secrets).
    return name.endswith("_FILE") and known.get(name.removesuffix("_FILE")) == "secret"


@cache
def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(compose_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = [item.partition("=") for item in env]
        return {name: value if sep else None for name, sep, value in pairs}
    return dict(env)


def interpolate(value: str) -> str:
    """What compose makes of `${NAME:-default}` (the default) and of
    `${NAME:?error}` / `${NAME}` (a placeholder: the value comes from .env)."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2) or "", match.group(3)
        if operator in (":-", "-"):
            return rest
        return f"<{name}>"

    value = re.sub(r"\$\{(\w+)(:?[-?])?([^}]*)\}", one, value)
    return value.replace("$$", "$")


def app_environment() -> dict[str, str]:
    """The app's environment as compose would pass it, `.env` values as <NAME>."""
    return {
        key: interpolate(str(value))
        for key, value in environment(compose()["x-app"]).items()
    }


def argv(command: str | list[Any] | None) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def healthcheck_argv(service: dict[str, Any]) -> list[str]:
    test = argv(service["healthcheck"]["test"])
    if test[0] == "CMD-SHELL":
        words = shlex.split(" ".join(test[1:]))
        # Drop shell redirections such as `> /dev/null`.
        cleaned: list[str] = []
        skip = False
        for word in words:
            if skip:
                skip = False
                continue
            if word in (">", "2>", ">>"):
                skip = True
                continue
            if word.startswith((">", "2>")):
                continue
            cleaned.append(word)
        return cleaned
    assert test[0] == "CMD", test
    return test[1:]


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line:
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def dockerfile_exec_form(keyword: str) -> list[str] | None:
    values = [rest for name, rest in dockerfile() if name == keyword]
    if not values:
        return None
    parsed = json.loads(values[-1])  # shell form would not parse: exec form only
    assert isinstance(parsed, list), f"{keyword} must use the exec (JSON) form"
    return [str(part) for part in parsed]


def image_argv() -> list[str]:
    return (dockerfile_exec_form("ENTRYPOINT") or []) + (
        dockerfile_exec_form("CMD") or []
    )


# ------------------------------------------------------------------ commands


def check_gunicorn(args: list[str]) -> int:
    """The WSGI `module:attr` imports; return the port it binds."""
    try:
        parsed = GunicornConfig().parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"gunicorn refuses its arguments: {args}")
    assert len(parsed.args) == 1, f"one WSGI application expected: {parsed.args}"
    module_name, _, attribute = parsed.args[0].partition(":")
    application = getattr(importlib.import_module(module_name), attribute)
    assert callable(application), parsed.args[0]
    assert parsed.bind, "gunicorn must bind an address reachable from outside"
    host, _, port = parsed.bind[0].rpartition(":")
    assert host == "0.0.0.0", "bind 0.0.0.0 inside a container"  # noqa: S104
    return int(port)


def check_celery(args: list[str]) -> tuple[str, dict[str, Any], Celery]:
    """`-A <app>` finds a Celery app and the subcommand accepts its options."""
    index = next(i for i, word in enumerate(args) if word in celery_cli.commands)
    name = args[index]
    group = celery_cli.make_context("celery", [*args[:index], name])
    app = find_app(group.params["app"])
    assert isinstance(app, Celery), f"-A {group.params['app']} is not a Celery app"
    group.obj = CLIContext(app=app, no_color=True, workdir=None, quiet=True)
    command = celery_cli.commands[name]
    params = command.make_context(name, args[index + 1 :], parent=group).params
    return name, params, app


def check_manage_py(args: list[str]) -> str:
    """The management command exists and accepts its options."""
    name, options = args[0], args[1:]
    commands = get_commands()
    assert name in commands, f"no management command {name!r}"
    command = load_command_class(commands[name], name)
    command.create_parser("manage.py", name).parse_args(options)
    return name


def check_python_command(args: list[str]) -> str:
    """Check one command that runs our Python code; return a short label."""
    program, rest = args[0], args[1:]
    assert program in PYTHON_PROGRAMS, f"not a Python command: {args}"
    if program == "gunicorn":
        check_gunicorn(rest)
        return "gunicorn"
    if program == "celery":
        name, _, _ = check_celery(rest)
        return f"celery {name}"
    if rest[:1] == ["manage.py"]:
        return f"manage.py {check_manage_py(rest[1:])}"
    if rest[:1] == ["-c"]:
        compile(rest[1], "<command>", "exec")
        return "python -c"
    pytest.fail(f"unexpected Python command: {args}")


# ------------------------------------------------------------------ services


def test_expected_services_exist() -> None:
    """§10 Scale: database, broker, object storage, mail and the app processes."""
    missing = EXPECTED_SERVICES - set(services())
    assert not missing, missing
    assert services()["postgres"]["image"] == "postgres:15"
    assert services()["redis"]["image"] == "redis:7"
    assert services()["minio-init"]["image"].startswith("minio/mc")
    assert services()["mailpit"]["image"].startswith("axllent/mailpit")


def test_app_services_share_the_x_app_anchor() -> None:
    """§10 Scale: web, worker, beat and migrate are one image, one configuration."""
    anchor = compose()["x-app"]
    for name in APP_SERVICES:
        service = services()[name]
        for key in ("build", "image", "environment", "volumes"):
            assert service[key] == anchor[key], f"{name}.{key} differs from x-app"


def test_every_long_running_service_has_a_healthcheck() -> None:
    """§10 Scale: the orchestrator restarts or routes around a sick process."""
    for name, service in services().items():
        if name in ONE_SHOT:
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        assert argv(check["test"])[0] in ("CMD", "CMD-SHELL"), name


def test_one_shot_services_run_once_and_are_waited_for() -> None:
    waited = {
        target
        for service in services().values()
        for target, rule in (service.get("depends_on") or {}).items()
        if isinstance(rule, dict)
        and rule.get("condition") == "service_completed_successfully"
    }
    for name in ONE_SHOT:
        assert services()[name].get("restart") == "no", name
        assert "healthcheck" not in services()[name], name
        assert name in waited, f"nothing waits for {name}"


def test_dependencies_name_real_services_and_healthchecks() -> None:
    for name, service in services().items():
        depends = service.get("depends_on") or {}
        for target in depends:
            assert target in services(), f"{name} depends on unknown {target}"
            if not isinstance(depends, dict):
                continue
            condition = depends[target].get("condition")
            if condition == "service_healthy":
                assert "healthcheck" in services()[target], (name, target)
            if condition == "service_completed_successfully":
                assert target in ONE_SHOT, (name, target)


def test_app_commands_name_real_code() -> None:
    """§10 Scale: gunicorn, the Celery worker and beat, and migrate all start."""
    labels = {
        name: check_python_command(
            argv(services()[name].get("command")) or image_argv()
        )
        for name in APP_SERVICES
    }
    assert labels == {
        "web": "gunicorn",
        "worker": "celery worker",
        "beat": "celery beat",
        "migrate": "manage.py migrate",
    }
    # Any other service that runs our code (none today) must name real code too.
    for name, service in services().items():
        command = argv(service.get("command"))
        if name not in APP_SERVICES and command and command[0] in PYTHON_PROGRAMS:
            check_python_command(command)


def test_web_serves_wsgi_and_its_healthcheck_calls_healthz() -> None:
    """SEC-7: /healthz (database, broker, storage) decides whether web is healthy."""
    web = services()["web"]
    port = check_gunicorn(argv(web["command"])[1:])
    published = [str(mapping).rsplit(":", 1)[-1] for mapping in web.get("ports", [])]
    assert str(port) in published, "publish the port gunicorn binds"
    check = healthcheck_argv(web)
    check_python_command(check)
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"\s]*)", " ".join(check))
    assert match, "the web healthcheck must call the app on 127.0.0.1"
    assert int(match.group(1)) == port
    assert resolve(match.group(2)).func is healthz
    hosts = interpolate(str(environment(web)["ALLOWED_HOSTS"])).split(",")
    assert "127.0.0.1" in hosts, "the healthcheck's Host must be allowed"


def test_worker_and_beat_commands_and_healthchecks() -> None:
    """§10 Scale: the worker answers pings; beat has jobs to send, all registered."""
    name, _, app = check_celery(argv(services()["worker"]["command"])[1:])
    assert name == "worker"
    check = healthcheck_argv(services()["worker"])
    assert check[0] == "celery"
    name, params, _ = check_celery(check[1:])
    assert (name, params["command"]) == ("inspect", "ping")

    name, params, _ = check_celery(argv(services()["beat"]["command"])[1:])
    assert name == "beat"
    schedule = params["schedule"]
    assert schedule.startswith("/tmp/"), "the schedule goes where the app user writes"
    check = healthcheck_argv(services()["beat"])
    check_python_command(check)
    assert schedule in " ".join(check), "beat's healthcheck watches its schedule file"

    app.loader.import_default_modules()
    assert app.conf.beat_schedule, "beat runs but config/celery.py schedules nothing"
    for entry, spec in app.conf.beat_schedule.items():
        assert spec["task"] in app.tasks, f"beat entry {entry}: unknown task"


# ------------------------------------------------------------------ environment


def test_settings_variables_are_found() -> None:
    """The parser below really sees settings.py (else every test passes vacuously)."""
    known = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DEBUG", "HTTPS"} <= set(known)
    assert known["SECRET_KEY"] == known["S3_SECRET_KEY"] == "secret"
    assert known["DEBUG"] == "bool"


def test_app_services_set_only_variables_that_settings_reads() -> None:
    """SEC-7: a misspelt variable would silently leave a default in production."""
    for name in APP_SERVICES:
        env = environment(services()[name])
        unknown = sorted(key for key in env if not is_settings_variable(key))
        assert not unknown, f"{name} sets variables settings.py never reads: {unknown}"


def test_app_environment_values_have_the_right_shape() -> None:
    """SEC-7: DEBUG off; booleans and integers that lib/env.py accepts."""
    known = settings_variables()
    env = app_environment()
    for key, value in env.items():
        kind = known.get(key)
        if kind == "bool":
            assert value.lower() in ("true", "false"), f"{key}={value!r}"
        if kind == "int":
            assert value.isdigit(), f"{key}={value!r}"
    assert env["DEBUG"] == "False"
    assert env["STORAGE_BACKEND"] == "s3"
    assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    import_string(env["EMAIL_BACKEND"])


def test_app_environment_points_at_the_compose_services() -> None:
    """§10 Scale: PostgreSQL, Redis, MinIO and Mailpit, by their service names."""
    env = app_environment()
    assert urlsplit(env["DATABASE_URL"]).scheme in ("postgres", "postgresql")
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
    assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    assert urlsplit(env["S3_ENDPOINT_URL"]).hostname == "minio"
    assert env["EMAIL_HOST"] == "mailpit"
    assert env["EMAIL_PORT"] == "1025"
    init = "\n".join(argv(services()["minio-init"]["command"]))
    assert f"mc mb --ignore-existing local/{env['S3_BUCKET']}" in init
    assert env["S3_BUCKET"] == "mes-files"


def test_secrets_come_from_env_never_from_the_file() -> None:
    """SEC-7: no secret is written in docker-compose.yml; the required ones
    stop `docker compose up` with a message when missing."""
    known = settings_variables()
    env = environment(compose()["x-app"])
    for key, value in env.items():
        if known.get(key.removesuffix("_FILE")) != "secret" or key.endswith("_FILE"):
            continue
        assert re.fullmatch(rf"\$\{{{key}(:?\?[^}}]*)?\}}", str(value)), (
            f"{key} must be ${{{key}:?...}}, not a value in the file"
        )
    for key in REQUIRED_SECRETS:
        assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", str(env[key])), key
    assert re.search(r"://\w+:\$\{POSTGRES_PASSWORD:\?", str(env["DATABASE_URL"]))


def test_env_example_lists_every_variable() -> None:
    """STYLE R17: .env.example lists every variable settings.py reads, and every
    ${...} docker-compose.yml takes from .env."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    missing = sorted(set(settings_variables()) - listed)
    assert not missing, f".env.example misses {missing}"
    from_env = set(re.findall(r"(?<!\$)\$\{(\w+)", compose_text()))
    assert not sorted(from_env - listed), sorted(from_env - listed)
    assert "_FILE" in text, "explain the <NAME>_FILE convention"


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_builds_the_image_the_services_run() -> None:
    """SEC-7, §10 Scale: slim Python 3.11, WeasyPrint libraries, non-root user,
    and an entry point that serves the WSGI app on the exposed port."""
    steps = dockerfile()
    keywords = [keyword for keyword, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
    ):
        assert package in runs, package
    assert "pip install ." in runs
    # `packages = []`: the code runs from the copied tree, in WORKDIR.
    assert ("COPY", ". .") in steps
    assert ("WORKDIR", "/app") in steps
    assert keywords.index("WORKDIR") < steps.index(("COPY", ". ."))

    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "run as a non-root user"
    assert keywords.index("USER") > steps.index(("COPY", ". ."))

    exposed = [rest for keyword, rest in steps if keyword == "EXPOSE"]
    assert exposed == ["8000"]
    command = image_argv()
    assert command[0] == "gunicorn", "the image's default command is the web server"
    assert check_gunicorn(command[1:]) == 8000

    # manage.py steps at build time name real commands.
    for _, rest in (step for step in steps if step[0] == "RUN"):
        for found in re.findall(r"python manage\.py ([^&;|]+)", rest):
            check_manage_py(shlex.split(found))

    # ENV names that configure the app are settings variables.
    for _, rest in (step for step in steps if step[0] == "ENV"):
        for name in re.findall(r"([A-Z][A-Z0-9_]*)=", rest):
            if name.startswith(("PYTHON", "PIP_")) or name in IMAGE_ONLY_VARIABLES:
                continue
            assert is_settings_variable(name), f"ENV {name} is never read"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    """SEC-7: .env, the virtualenv and var/ (dev secrets, SQLite) stay out of images."""
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".venv", "var", ".git"):
        assert entry in ignored, entry
