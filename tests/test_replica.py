"""Reports read from the replica (DATABASE_REPLICA_URL); everything else, and every
write, stays on the primary."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from wuye.core.replica import ReportsReplicaRouter, reading_reports
from wuye.workorders.models import WorkOrder


def test_router_sends_report_reads_to_the_reports_database(settings):
    settings.REPORTS_DATABASE = "replica"
    router = ReportsReplicaRouter()
    assert router.db_for_read(WorkOrder) is None  # the primary
    with reading_reports():
        assert router.db_for_read(WorkOrder) == "replica"
        assert router.db_for_write(WorkOrder) == "default"
    assert router.db_for_read(WorkOrder) is None
    assert router.allow_migrate("replica", "workorders") is False
    assert router.allow_migrate("default", "workorders") is True


@pytest.mark.skipif(
    "replica" not in connections.settings, reason="no DATABASE_REPLICA_URL configured"
)
@pytest.mark.django_db(databases=["default", "replica"], transaction=True)
@pytest.mark.parametrize(
    "url", ["/console/quality/", "/console/quality/complaints/", "/console/quality/index/"]
)
def test_quality_pages_read_their_figures_from_the_replica(cast, settings, url):
    settings.REPORTS_DATABASE = "replica"
    client = cast.client("company_admin")
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    assert response.status_code == 200
    replica_sql = " ".join(q["sql"] for q in replica.captured_queries)
    primary_sql = " ".join(q["sql"] for q in primary.captured_queries)
    assert "quality_" in replica_sql or "workorders_" in replica_sql
    assert "rollup" not in primary_sql and "workorders_complaint" not in primary_sql
