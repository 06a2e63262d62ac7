"""Reports read from a streaming replica when one is configured.

A view or task that only reads (dashboards, analyses, exports) runs inside
``reading_reports()`` or is decorated with ``@reads_from_replica``; its reads go to
``settings.REPORTS_DATABASE`` ("replica" when ``DATABASE_REPLICA_URL`` is set). Writes
always go to the primary, and so do reads outside such a block: a page that has just
saved something reads it back from where it was written. A replica lags by a moment,
which reports can afford and forms cannot.
"""

import contextlib
import contextvars
import functools

from django.conf import settings

_reading_reports = contextvars.ContextVar("wuye_reading_reports", default=False)


@contextlib.contextmanager
def reading_reports():
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def reads_from_replica(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with reading_reports():
            return view(*args, **kwargs)

    return wrapper


class ReportsReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_reports.get():
            return settings.REPORTS_DATABASE
        return None  # the primary

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary's schema
