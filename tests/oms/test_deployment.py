"""Start-up paths: the embedded default (the demo folder's PostgreSQL, a broker in files) and a production
configuration."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from oms.demo import embedded

BASE_DIR = Path(settings.BASE_DIR)
# Variables of the test run that would steer the subprocess away from the configuration under test.
_STEERING = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "OMS_TEST_DB_NAME",
    "OMS_DEMO_DIR",
    "OMS_DEMO",
    "DEBUG",
    "SECRET_KEY",
    "DJANGO_SETTINGS_MODULE",
    "OMS_PRODUCTION",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "OMS_BEHIND_PROXY",
    "OMS_SESSION_HOURS",
    "OMS_CSP_REPORT_URI",
    "ALLOWED_HOSTS",
)
# Settings never connect at import: a command that needs no database runs with this one.
UNUSED_DATABASE = "postgres://nobody@127.0.0.1:1/unused"


def clean_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in _STEERING}
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


def manage(*args, env, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_lone_command_starts_the_embedded_postgresql_and_stops_it_when_it_exits(tmp_path):
    env = clean_env(OMS_DEMO_DIR=str(tmp_path))

    result = manage(
        "shell",
        "-c",
        "from django.db import connection; connection.ensure_connection(); "
        "print(connection.vendor, connection.settings_dict['NAME'], connection.settings_dict['HOST'])",
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["postgresql", "oms", str(tmp_path / "pg")]
    assert (tmp_path / "pg" / "PG_VERSION").exists()
    assert embedded.postmaster_pid(tmp_path) is None


def test_a_command_joins_the_running_embedded_postgresql_and_leaves_it_running(tmp_path):
    server = embedded.start(tmp_path)
    try:
        pid = embedded.postmaster_pid(tmp_path)
        result = manage("migrate", "--noinput", env=clean_env(OMS_DEMO_DIR=str(tmp_path)))
        assert result.returncode == 0, result.stderr
        assert embedded.postmaster_pid(tmp_path) == pid
    finally:
        embedded.release(server)
    assert embedded.postmaster_pid(tmp_path) is None


def test_a_process_killed_while_holding_the_server_does_not_keep_it_running(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    server = embedded.start(tmp_path)
    handles = tmp_path / "pg" / ".handle_pids.json"
    handles.write_text(json.dumps([int(dead.stdout), *json.loads(handles.read_text())]))

    embedded.release(server)

    assert embedded.postmaster_pid(tmp_path) is None


def test_without_redis_the_broker_is_files_in_the_demo_folder(tmp_path):
    """No server to run: kombu's file transport, named with a host so that kombu does not warn about it."""
    env = clean_env(OMS_DEMO_DIR=str(tmp_path), DATABASE_URL=UNUSED_DATABASE)

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; from oms.celery import app; "
        "app.connection_for_write().info(); print(app.conf.broker_url, app.conf.task_always_eager, "
        "settings.CACHES['default']['LOCATION'], 'ok')",
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "filesystem://localhost/",
        "False",
        str(tmp_path / "cache"),
        "ok",
    ]
    assert (tmp_path / "broker" / "messages").is_dir()
    assert "hostname" not in (result.stdout + result.stderr).lower()


def production_env(**extra) -> dict:
    return clean_env(
        DEBUG="0",
        OMS_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="oms.example.com",
        DATABASE_URL="postgres://oms@127.0.0.1:5432/oms",
        REDIS_URL="redis://127.0.0.1:6379/0",
        **extra,
    )


def test_check_deploy_passes_with_production_settings():
    env = production_env(SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_with_production_defaults_names_only_the_hsts_opt_ins():
    """OMS_PRODUCTION alone: HTTPS, secure cookies and HSTS are on; HSTS for subdomains and the preload list are
    the operator's choice (README, "Production checklist"), and the check says so, and nothing else."""
    result = manage("check", "--deploy", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert sorted(set(re.findall(r"\(([a-z_]+\.[WE]\d+)\)", output))) == ["security.W005", "security.W021"]


def test_check_deploy_flags_an_insecure_configuration(tmp_path):
    env = clean_env(DEBUG="0", SECRET_KEY="short", DATABASE_URL=UNUSED_DATABASE, OMS_DEMO_DIR=str(tmp_path))

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout
