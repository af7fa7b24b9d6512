"""Start-up paths: the embedded default (SQLite, eager tasks) and a production configuration."""
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# Variables of the test run that would steer the subprocess away from the configuration under test.
_STEERING = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "OMS_TEST_DB_NAME",
             "OMS_SQLITE_PATH", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT",
             "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "ALLOWED_HOSTS")


def clean_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in _STEERING}
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


def manage(*args, env, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_embedded_default_migrates_checks_and_serves(tmp_path):
    env = clean_env(OMS_SQLITE_PATH=str(tmp_path / "oms.sqlite3"))

    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "oms.sqlite3").exists()
    checked = manage("check", env=env)
    assert checked.returncode == 0, checked.stderr

    port = free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = get(f"http://127.0.0.1:{port}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert health == 200, server.stdout.read() if server.poll() is not None else "no answer"
        assert get(f"http://127.0.0.1:{port}/login/") == 200
        assert get(f"http://127.0.0.1:{port}/readyz") == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


def test_the_embedded_default_broker_connects_without_a_warning(tmp_path):
    """The in-memory transport of eager mode names its host: kombu's "No hostname was supplied" is not printed."""
    env = clean_env(OMS_SQLITE_PATH=str(tmp_path / "oms.sqlite3"))

    result = manage("shell", "-c", "from oms.celery import app; app.connection_for_write().info(); print('ok')",
                    env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
    assert "hostname" not in (result.stdout + result.stderr).lower()


def test_check_deploy_passes_with_production_settings():
    env = clean_env(
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="oms.example.com",
        SECURE_SSL_REDIRECT="1", SECURE_HSTS_SECONDS="31536000", SESSION_COOKIE_SECURE="1", CSRF_COOKIE_SECURE="1",
        DATABASE_URL="postgres://oms@127.0.0.1:5432/oms", REDIS_URL="redis://127.0.0.1:6379/0",
    )

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_an_insecure_configuration():
    env = clean_env(DEBUG="0", SECRET_KEY="short")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout
