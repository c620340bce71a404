"""A real Celery worker runs the heartbeat, on Redis and on the embedded
filesystem broker of `make run` (issue 2: worker and beat, SEC-6 settings)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))


def _env(var_dir: Path, redis_url: str = "") -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VAR_DIR=str(var_dir),
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
    )
    return env


def _run_worker_until(env: dict[str, str], done: Any, timeout: float = 40) -> bool:
    worker = subprocess.Popen(
        [CELERY, "-A", "config", "worker", "--pool", "solo", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.3)
        return False
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)


def _send_heartbeat(env: dict[str, str]) -> None:
    code = "from config.celery import app; app.send_task('espace.tasks.heartbeat')"
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60
    )


def _cache_value(env: dict[str, str]) -> Any:
    code = (
        "import django; django.setup(); from django.core.cache import cache;"
        "print(cache.get('celery:heartbeat') or '')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip()


def test_a_worker_on_the_embedded_broker_runs_the_heartbeat(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["DEV_SECRETS"] = "True"
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "AUDIT_CHAIN_KEY", "CODE_HASH_KEY"):
        env.pop(name, None)
    _send_heartbeat(env)
    assert _run_worker_until(env, lambda: bool(_cache_value(env)))


def test_a_worker_on_redis_runs_the_heartbeat(tmp_path: Path, redis_url: str) -> None:
    import redis

    env = _env(tmp_path, redis_url)
    client = redis.Redis.from_url(redis_url)
    client.delete(":1:celery:heartbeat")
    _send_heartbeat(env)
    assert _run_worker_until(env, lambda: client.exists(":1:celery:heartbeat"))


def test_beat_schedules_the_heartbeat_every_minute() -> None:
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == "espace.tasks.heartbeat"
    assert entry["task"] in app.tasks
    assert entry["schedule"].minute == set(range(60))


def test_tasks_survive_a_worker_killed_mid_task() -> None:
    """SEC-6: acknowledged after running; redelivered if the worker dies."""
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
