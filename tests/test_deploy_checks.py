"""Production settings pass Django's deployment checks with nothing to silence."""

import os
import secrets
import subprocess
import sys


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "HTTPS": "1",
        "ALLOWED_HOSTS": "wuye.example.com",
        "DEBUG": "0",
        "WUYE_VAR_DIR": str(tmp_path),
    }
    env.pop("WUYE_DEMO", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "wuye.cli",
            "manage",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no issues (0 silenced)" in completed.stdout


def test_the_development_key_fails_the_deploy_checks(tmp_path):
    env = {**os.environ, "HTTPS": "1", "DEBUG": "0", "WUYE_VAR_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "wuye.cli",
            "manage",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0 and "wuye.E001" in completed.stderr + completed.stdout
