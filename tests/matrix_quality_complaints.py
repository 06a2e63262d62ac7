"""Access-matrix rows for quality: complaints (loader: end of test_access_matrix.py).

The analysis reads the caller's own scope: every staff member with ``quality.view``
(of either company, any community) gets their figures; residents, field staff and the
desk are refused. Which complaints each one sees is tested in test_quality_complaints."""


def rows(m):
    viewers = m.staff_has("quality.view")
    pages = {
        "quality_complaints:overview": m.page("quality_complaints:overview", viewers),
        "quality_complaints:export": m.page("quality_complaints:export", viewers),
    }
    api = {
        "wuye_quality_api_complaints_complaints_analytics": m.op(
            "GET", lambda c: "/api/v1/quality/complaints", viewers
        ),
    }
    return pages, api
