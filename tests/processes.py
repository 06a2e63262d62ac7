"""Wuye's own processes (``wuye serve``, ``wuye worker``) started and stopped by tests
that run them against the test database (PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from urllib.parse import quote

from django.db import connection


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def start(stack: ExitStack, argv: list[str], env: dict, log) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wuye.cli", *argv],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def stop():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    stack.callback(stop)
    return proc


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
