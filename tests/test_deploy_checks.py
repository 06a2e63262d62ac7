"""Production settings pass Django's deployment checks with nothing to silence."""

import os
import secrets
import subprocess
import sys

from conftest import engine_independent

# Settings and a subprocess: nothing here touches the database engine.
pytestmark = engine_independent


def check_deploy(tmp_path, **variables) -> subprocess.CompletedProcess:
    env = {**os.environ, "HTTPS": "1", "DEBUG": "0", "WUYE_VAR_DIR": str(tmp_path)}
    env.pop("WUYE_DEMO", None)
    env.pop("SECRET_KEY", None)
    env.update(variables)
    return subprocess.run(
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


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    completed = check_deploy(
        tmp_path, SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="wuye.example.com"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no issues (0 silenced)" in completed.stdout


def test_the_development_key_fails_the_deploy_checks(tmp_path):
    completed = check_deploy(tmp_path, ALLOWED_HOSTS="wuye.example.com")
    assert completed.returncode != 0 and "wuye.E001" in completed.stderr + completed.stdout
