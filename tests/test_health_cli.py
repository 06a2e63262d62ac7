import json
import subprocess
import sys

import pytest
from conftest import engine_independent
from django.db import connection


@pytest.mark.django_db
def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_reports_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


@engine_independent  # a subprocess; no database
def test_openapi_command_prints_the_schema():
    out = subprocess.run(
        [sys.executable, "-m", "wuye.cli", "openapi"], capture_output=True, text=True, check=True
    ).stdout
    schema = json.loads(out)
    assert schema["info"]["title"] == "Wuye API"
    assert schema["openapi"].startswith("3.")


@engine_independent  # a subprocess; no database
def test_manage_passes_through_to_django():
    out = subprocess.run(
        [sys.executable, "-m", "wuye.cli", "manage", "check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "no issues" in out


@pytest.mark.django_db
def test_chinese_by_default_whatever_the_browser_says(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_the_language_switch_sticks(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    response = client.get("/accounts/login/")
    assert response.headers["Content-Language"] == "en"
    assert "Sign in" in response.content.decode()
    client.post("/i18n/setlang/", {"language": "xx"})  # unknown: ignored
    assert client.get("/accounts/login/").headers["Content-Language"] == "en"
