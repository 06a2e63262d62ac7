"""Demo dataset (placeholder replaced by the demo-data work)."""

PASSWORD = "wuye-demo-2026"


def load() -> bool:
    return False


def logins():
    return []
