"""Project-level promises: settings from the environment, production hardening, entry points."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_python(code_or_args, env_extra=None, *, module_args=None):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    env.pop("CIVICGRID_TESTING", None)
    env["DJANGO_SETTINGS_MODULE"] = "civicgrid.settings"  # pytest-django exported the test settings
    env.update(env_extra or {})
    args = [sys.executable, *(module_args or ["-c", code_or_args])]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "civicgrid.settings_production",
    "SECRET_KEY": "k" * 20 + "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5",
    "ALLOWED_HOSTS": "civicgrid.example.gov.cn",
    # personal-data keys (docs/personal-data.md): test values, never used for real data
    "CIVICGRID_DATA_KEYS": "k1:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=",
    "CIVICGRID_BLIND_INDEX_KEY": "aW5kZXgta2V5LWZvci10ZXN0cy1vbmx5LTAxMjM0NTY3ODk=",
}


def test_production_settings_pass_the_deploy_check(tmp_path):
    # given production settings with a real key and host
    env = {**PRODUCTION, "CIVICGRID_VAR_DIR": str(tmp_path)}
    # when Django's deployment checklist runs at warning level
    result = run_python(None, env, module_args=["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    # then it finds nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    # given production settings and no SECRET_KEY
    env = {**PRODUCTION, "CIVICGRID_VAR_DIR": str(tmp_path)}
    del env["SECRET_KEY"]
    # when anything starts
    result = run_python(None, env, module_args=["manage.py", "check"])
    # then it stops with a message naming the setting
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_off_without_secret_key_refuses_and_debug_on_uses_a_development_key(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY[:15])"
    env = {"DJANGO_SETTINGS_MODULE": "civicgrid.settings", "CIVICGRID_VAR_DIR": str(tmp_path)}
    refused = run_python(code, env)
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    allowed = run_python(code, {**env, "DEBUG": "1"})
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "django-insecure"


def test_embedded_default_is_sqlite_in_wal_mode_with_immediate_transactions(tmp_path):
    # given no DATABASE_URL
    code = (
        "import django; django.setup(); from django.db import connection; from django.conf import settings;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]);"
        "print(settings.DATABASES['default']['NAME']); print(settings.DATABASES['default']['OPTIONS']['transaction_mode']);"
        "print(settings.TIME_ZONE, settings.LANGUAGE_CODE)"
    )
    result = run_python(code, {"DEBUG": "1", "CIVICGRID_VAR_DIR": str(tmp_path)})
    # then the database is a WAL-mode SQLite file under var/, with Chinese defaults
    assert result.returncode == 0, result.stderr
    mode, name, txn, locale = result.stdout.strip().splitlines()
    assert mode == "wal"
    assert name == str(tmp_path / "civicgrid.sqlite3")
    assert txn == "IMMEDIATE"
    assert locale == "Asia/Shanghai zh-hans"


def test_settings_follow_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE']); print(settings.ALLOWED_HOSTS);"
        "print(settings.CELERY_BROKER_URL); print(settings.TIME_ZONE, settings.LANGUAGE_CODE)"
    )
    env = {
        "DEBUG": "1", "CIVICGRID_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://u:p@db.internal:5432/civicgrid",
        "ALLOWED_HOSTS": "a.example,b.example", "CELERY_BROKER_URL": "redis://cache:6379/3",
        "TIME_ZONE": "Asia/Urumqi", "LANGUAGE_CODE": "en",
    }
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    engine, hosts, broker, locale = result.stdout.strip().splitlines()
    assert engine == "django.db.backends.postgresql"
    assert hosts == "['a.example', 'b.example']"
    assert broker == "redis://cache:6379/3"
    assert locale == "Asia/Urumqi en"


@pytest.mark.parametrize(
    "command",
    ["import_divisions", "import_grids", "locate", "load_demo", "load_categories", "explain_responsibility", "calendar"],
)
def test_every_operator_command_has_help(command):
    # when the operator asks the civicgrid entry point for help on a command
    result = run_python(None, {"DEBUG": "1"}, module_args=["-m", "civicgrid.cli", command, "--help"])
    # then it answers with a usage line
    assert result.returncode == 0, result.stderr
    assert f"usage: civicgrid {command}" in result.stdout


def test_home_page_and_health_answer_in_chinese(client, db):
    response = client.get("/about/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "网格化社会治理" in response.content.decode()
    health = client.get("/healthz")
    assert health.json()["status"] == "ok"


def test_home_page_speaks_english_on_request(client, db):
    response = client.get("/about/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Grid-based social governance platform" in response.content.decode()


def test_openapi_schema_is_served(admin_client):
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/api/v1/regions/locate" in body


def test_no_asset_comes_from_a_cdn():
    # government networks are intranets: every script and stylesheet is ours
    offenders = []
    for path in (ROOT / "civicgrid").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if "http://" in text or "https://" in text:
            offenders.append(str(path))
    assert offenders == []


def test_api_docs_page_loads_its_scripts_from_our_server(admin_client):
    response = admin_client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui" in body
    assert "cdn" not in body.lower()
