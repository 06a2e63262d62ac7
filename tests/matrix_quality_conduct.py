"""Access-matrix rows for quality: conduct spot checks and the staff scorecard (loader:
end of test_access_matrix.py).

The fixture: a spot check of the guard in community X by the quality officer, place
"矩阵岗亭", made once per cell (every cell runs in a rolled-back transaction)."""

from django.urls import reverse

PLACE = "矩阵岗亭"


def _check(cast):
    from wuye.quality import spot_checks
    from wuye.quality.models import SpotCheck

    found = SpotCheck.objects.filter(place=PLACE).first()
    return found or spot_checks.record_spot_check(
        actor=cast.actor("quality"),
        community=cast.community_x,
        subject=cast.staff["guard"],
        marks=spot_checks.checklist_marks(cast.company.pk),
        place=PLACE,
    )


def _item(cast):
    from wuye.quality.spot_checks import ordered_items

    return ordered_items(cast.company.pk).first()


def _form(cast, name):
    from wuye.quality.spot_checks import ordered_items

    data = {"community": cast.community_x.pk, "subject": cast.staff["guard"].pk, "place": "东门"}
    for item in ordered_items(cast.company.pk, active_only=True):
        data[f"kept_{item.pk}"] = "1"
    return data


def rows(m):
    view_x = m.staff_may("quality.view")
    inspect_x = m.staff_may("quality.inspect")
    editors = m.staff_may("quality.manage", company_wide_only=True)
    viewers = m.staff_has("quality.view")  # any company: each sees their own scope
    inspectors = m.staff_has("quality.inspect")
    view_x_or_subject = m.either(view_x, m.only("guard"))

    def company_a_viewers(name):
        return m.company_a_staff(name) and viewers(name)

    def item_edit(c, name):
        return {"aspect": "speech", "rule_set": "", "text": f"矩阵条目{m._n(name)}", "points": 2}

    pages = {
        "conduct:spot_checks": m.page(
            "conduct:spot_checks",
            view_x,
            target=lambda c: reverse("conduct:spot_check", args=[_check(c).pk]),
        ),
        "conduct:export": m.page("conduct:export", viewers),
        "conduct:spot_check": m.page("conduct:spot_check", view_x, args=lambda c: [_check(c).pk]),
        "conduct:items": m.page("conduct:items", viewers),
        "conduct:item_edit": m.page(
            "conduct:item_edit", editors, args=lambda c: [_item(c).pk], data=item_edit
        ),
        "conduct:item_toggle": m.page(
            "conduct:item_toggle", editors, args=lambda c: [_item(c).pk], data=lambda c, n: {}
        ),
        "conduct:item_move": m.page(
            "conduct:item_move",
            editors,
            args=lambda c: [_item(c).pk],
            data=lambda c, n: {"direction": "down"},
        ),
        "conduct:scorecard": m.page(
            "conduct:scorecard",
            view_x,
            target=lambda c: reverse("conduct:scorecard_member", args=[c.staff["technician"].pk]),
        ),
        "conduct:scorecard_export": m.page("conduct:scorecard_export", viewers),
        "conduct:scorecard_member": m.page(
            "conduct:scorecard_member", view_x, args=lambda c: [c.staff["technician"].pk]
        ),
        "conduct_field:new_spot_check": m.page(
            "conduct_field:new_spot_check", inspect_x, data=_form
        ),
        "conduct_field:staff_search": m.page("conduct_field:staff_search", inspectors),
        "conduct_field:mine": m.page(
            "conduct_field:mine",
            m.only("guard"),
            target=lambda c: reverse("conduct_field:spot_check", args=[_check(c).pk]),
        ),
        "conduct_field:spot_check": m.page(
            "conduct_field:spot_check", view_x_or_subject, args=lambda c: [_check(c).pk]
        ),
    }

    def new_check(c, name):
        from wuye.quality.spot_checks import ordered_items

        return {
            "community_id": c.community_x.pk,
            "subject_id": c.staff["guard"].pk,
            "marks": [
                {"item_id": item.pk, "kept": True}
                for item in ordered_items(c.company.pk, active_only=True)[:3]
            ],
            "place": f"矩阵接口{m._n(name)}",
        }

    api = {
        "wuye_quality_api_conduct_conduct_list_spot_checks": m.op(
            "GET",
            m._api(lambda c: "/quality/spot-checks"),
            view_x_or_subject,
            target=lambda c: _check(c).pk,
        ),
        "wuye_quality_api_conduct_conduct_create_spot_check": m.op(
            "POST", m._api(lambda c: "/quality/spot-checks"), inspect_x, data=new_check
        ),
        "wuye_quality_api_conduct_conduct_get_spot_check": m.op(
            "GET",
            m._api(lambda c: f"/quality/spot-checks/{_check(c).pk}"),
            view_x_or_subject,
        ),
        "wuye_quality_api_conduct_conduct_list_items": m.op(
            "GET",
            m._api(lambda c: "/quality/conduct-items"),
            company_a_viewers,
            target=lambda c: _item(c).pk,
        ),
        "wuye_quality_api_conduct_scorecard_list": m.op(
            "GET", m._api(lambda c: "/quality/scorecard"), viewers
        ),
    }
    return pages, api
