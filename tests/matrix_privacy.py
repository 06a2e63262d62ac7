"""Access-matrix rows for privacy: the audit log, deletion requests, retention, a
resident's data copy (loader: end of test_access_matrix.py)."""

RESIDENTS = ("resident_a", "resident_b", "other_resident")


def _log(cast):
    """An export of company A in the audit log (once per cell)."""
    from wuye.privacy import services
    from wuye.privacy.models import AccessLog, Action

    found = AccessLog.objects.filter(what="matrix-audit.xlsx").first()
    return found or services.log_access(
        actor=cast.actor("company_admin"), action=Action.EXPORT, what="matrix-audit.xlsx"
    )


def _request(cast):
    """Resident A's waiting deletion request (community X)."""
    from wuye.privacy import services
    from wuye.privacy.models import DeletionRequest

    found = DeletionRequest.objects.filter(resident=cast.resident_a).first()
    return found or services.request_deletion(actor=cast.actor("resident_a"), reason="矩阵理由")[0]


def rows(m):
    audit_x = m.staff_may("privacy.view_audit")
    erase_x = m.staff_may("privacy.erasure")
    residents = m.only(*RESIDENTS)
    pages = {
        "privacy:audit_log": m.page("privacy:audit_log", audit_x, target=lambda c: _log(c).what),
        "privacy:deletion_list": m.page(
            "privacy:deletion_list", erase_x, target=lambda c: _request(c).reason
        ),
        "privacy:deletion_approve": m.page(
            "privacy:deletion_approve",
            erase_x,
            args=lambda c: [_request(c).pk],
            data=lambda c, _n: {"note": "矩阵"},
        ),
        "privacy:deletion_reject": m.page(
            "privacy:deletion_reject",
            erase_x,
            args=lambda c: [_request(c).pk],
            data=lambda c, _n: {"note": "矩阵"},
        ),
        "privacy:retention": m.page("privacy:retention", m.staff_has("company.manage")),
        "privacy_resident:my_data": m.page("privacy_resident:my_data", m.anyone_signed_in),
        "privacy_resident:download": m.page("privacy_resident:download", residents),
        "privacy_resident:request_deletion": m.page(
            "privacy_resident:request_deletion", residents, data=lambda c, _n: {"reason": "矩阵"}
        ),
    }
    api = {
        "wuye_privacy_api_list_access_logs": m.op(
            "GET", lambda c: "/api/v1/privacy/access-logs", audit_x, target=lambda c: _log(c).id
        ),
        "wuye_privacy_api_my_data": m.op("GET", lambda c: "/api/v1/privacy/my-data", residents),
        "wuye_privacy_api_list_deletion_requests": m.op(
            "GET",
            lambda c: "/api/v1/privacy/deletion-requests",
            m.either(erase_x, m.only("resident_a")),
            target=lambda c: _request(c).id,
        ),
        "wuye_privacy_api_create_deletion_request": m.op(
            "POST",
            lambda c: "/api/v1/privacy/deletion-requests",
            residents,
            data=lambda c, _n: {"reason": "矩阵"},
        ),
        "wuye_privacy_api_approve_deletion_request": m.op(
            "POST",
            lambda c: f"/api/v1/privacy/deletion-requests/{_request(c).id}/approve",
            erase_x,
            data=lambda c, _n: {"note": "矩阵"},
        ),
        "wuye_privacy_api_reject_deletion_request": m.op(
            "POST",
            lambda c: f"/api/v1/privacy/deletion-requests/{_request(c).id}/reject",
            erase_x,
            data=lambda c, _n: {"note": "矩阵"},
        ),
    }
    return pages, api
