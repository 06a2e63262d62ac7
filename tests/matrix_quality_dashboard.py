"""Access-matrix rows for quality: dashboard (loader: end of test_access_matrix.py).

The dashboard and the index show the reader's own scope: every quality viewer may open
them (another company's admin sees their own company), so the rows look for community
X's name, which only those who see X find. Settings are for company-wide quality
managers; each allowed write stores a different iceberg factor."""

SETTINGS = {
    "weight_reliability": "32",
    "weight_responsiveness": "22",
    "weight_assurance": "19",
    "weight_empathy": "16",
    "weight_tangibles": "11",
    "care_threshold": "30",
}


def rows(m):
    view_x = m.staff_may("quality.view")
    viewers = m.staff_has("quality.view")
    manage_wide = m.staff_has("quality.manage", company_wide_only=True)

    def community_x(c):
        return c.community_x.name

    pages = {
        "quality:dashboard": m.page("quality:dashboard", view_x, target=community_x),
        "quality:index": m.page("quality:index", view_x, target=community_x),
        "quality:dashboard_export": m.page("quality:dashboard_export", viewers),
        "quality:settings": m.page(
            "quality:settings",
            manage_wide,
            data=lambda c, name: SETTINGS | {"iceberg_factor": str(100 + m._n(name))},
        ),
    }
    api = {
        "wuye_quality_api_dashboard_dashboard_figures": m.op(
            "GET", m._api(lambda c: "/quality/dashboard"), viewers
        ),
        "wuye_quality_api_dashboard_index_figures": m.op(
            "GET", m._api(lambda c: "/quality/index"), viewers
        ),
        "wuye_quality_api_dashboard_settings_get": m.op(
            "GET", m._api(lambda c: "/quality/settings"), viewers
        ),
        "wuye_quality_api_dashboard_settings_update": m.op(
            "PUT",
            m._api(lambda c: "/quality/settings"),
            manage_wide,
            data=lambda c, name: {"iceberg_factor": 100 + m._n(name)},
        ),
    }
    return pages, api
