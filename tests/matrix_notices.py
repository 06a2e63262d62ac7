"""Access-matrix rows for notices (see the loader at the end of test_access_matrix.py)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

PDF = b"%PDF-1.4\n%matrix\n"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, "PNG")
    return out.getvalue()


def _notices(cast) -> dict:
    """Community X: a draft ("矩阵草稿") with an image and a file; a published notice
    ("矩阵公告", with an image and a file) that residents A and B have already read; and
    a published one ("矩阵未读") nobody has read. Made once per cell."""
    from wuye.notices import services
    from wuye.notices.models import Notice, NoticeReceipt
    from wuye.notifications.models import Notification

    found = {n.title: n for n in Notice.objects.filter(title__startswith="矩阵")}
    if len(found) == 3:
        published = found["矩阵公告"]
        draft = found["矩阵草稿"]
        return {
            "draft": draft,
            "published": published,
            "unread": found["矩阵未读"],
            "draft_photo": draft.photos.get(),
            "draft_file": draft.attachments.get(),
            "photo": published.photos.get(),
            "file": published.attachments.get(),
            "receipt": published.receipts.get(house=cast.house_a),
        }
    pm = cast.actor("project_manager")
    made = {}
    for title in ("矩阵草稿", "矩阵公告", "矩阵未读"):
        notice = services.create_notice(
            actor=pm,
            community=cast.community_x,
            audience="buildings",
            buildings=[cast.building_x1],
            kind="outage",
            title=title,
            body="明日停水",
        )
        if title != "矩阵未读":
            services.add_photo(
                actor=pm, notice=notice, uploaded=SimpleUploadedFile("m.png", _png())
            )
            services.add_attachment(
                actor=pm, notice=notice, upload=SimpleUploadedFile("m.pdf", PDF)
            )
        if title != "矩阵草稿":
            services.publish_notice(actor=pm, notice=notice)  # fan-out waits for commit
            services.fan_out(notice.pk)
        made[title] = notice
    read = made["矩阵公告"]
    now = timezone.now()
    NoticeReceipt.objects.filter(notice=read).update(read_at=now)
    Notification.objects.filter(dedupe_key=f"notice:{read.pk}").update(read_at=now)
    return _notices(cast)


def rows(m):
    view_x = m.staff_may("engagement.view")
    manage_x = m.staff_may("engagement.manage")
    residents_x = m.only("resident_a", "resident_b")
    n = _notices

    def new_notice(c, name):
        return {
            "community": n(c) and c.community_x.id,
            "audience": "community",
            "kind": "notice",
            "title": f"矩阵新{m._n(name)}",
            "body": "正文",
        }

    pages = {
        "notices:list": m.page("notices:list", view_x, target=lambda c: n(c)["published"].title),
        "notices:create": m.page("notices:create", manage_x, data=new_notice),
        "notices:detail": m.page("notices:detail", view_x, args=lambda c: [n(c)["published"].id]),
        "notices:edit": m.page(
            "notices:edit",
            manage_x,
            args=lambda c: [n(c)["draft"].id],
            data=lambda c, name: new_notice(c, name) | {"title": f"改{m._n(name)}"},
        ),
        "notices:publish": m.page(
            "notices:publish", manage_x, args=lambda c: [n(c)["draft"].id], data=lambda c, _n: {}
        ),
        "notices:withdraw": m.page(
            "notices:withdraw",
            manage_x,
            args=lambda c: [n(c)["published"].id],
            data=lambda c, _n: {"note": "矩阵"},
        ),
        "notices:receipts_export": m.page(
            "notices:receipts_export", view_x, args=lambda c: [n(c)["published"].id]
        ),
        "notices:attachment": m.page(
            "notices:attachment", view_x, args=lambda c: [n(c)["file"].id]
        ),
        "notices:attachment_upload": m.page(
            "notices:attachment_upload",
            manage_x,
            args=lambda c: [n(c)["draft"].id],
            data=lambda c, _n: {"file": SimpleUploadedFile("x.pdf", PDF)},
        ),
        "notices:attachment_delete": m.page(
            "notices:attachment_delete",
            manage_x,
            args=lambda c: [n(c)["draft_file"].id],
            data=lambda c, _n: {},
        ),
        "notices:photo_upload": m.page(
            "notices:photo_upload",
            manage_x,
            args=lambda c: [n(c)["draft"].id],
            data=lambda c, _n: {"photo": SimpleUploadedFile("x.png", _png())},
        ),
        "notices:photo_delete": m.page(
            "notices:photo_delete",
            manage_x,
            args=lambda c: [n(c)["draft"].id, n(c)["draft_photo"].id],
            data=lambda c, _n: {},
        ),
        "notices:image": m.page(
            "notices:image", view_x, args=lambda c: [n(c)["published"].id, n(c)["photo"].id]
        ),
        "notices_resident:list": m.page(
            "notices_resident:list", residents_x, target=lambda c: n(c)["published"].title
        ),
        "notices_resident:detail": m.page(
            "notices_resident:detail", residents_x, args=lambda c: [n(c)["published"].id]
        ),
        "notices_resident:image": m.page(
            "notices_resident:image",
            residents_x,
            args=lambda c: [n(c)["published"].id, n(c)["photo"].id],
        ),
        "notices_resident:attachment": m.page(
            "notices_resident:attachment", residents_x, args=lambda c: [n(c)["file"].id]
        ),
    }
    api = {
        "wuye_notices_api_list_notices": m.op(
            "GET", m._api(lambda c: "/notices"), view_x, target=lambda c: n(c)["published"].id
        ),
        "wuye_notices_api_create_notice": m.op(
            "POST",
            m._api(lambda c: "/notices"),
            manage_x,
            data=lambda c, name: {
                "community_id": n(c) and c.community_x.id,
                "title": f"矩阵接口{m._n(name)}",
                "body": "正文",
            },
        ),
        "wuye_notices_api_get_notice": m.op(
            "GET", m._api(lambda c: f"/notices/{n(c)['published'].id}"), view_x
        ),
        "wuye_notices_api_update_notice": m.op(
            "PATCH",
            m._api(lambda c: f"/notices/{n(c)['draft'].id}"),
            manage_x,
            data=lambda c, name: {"title": f"改{m._n(name)}"},
        ),
        "wuye_notices_api_publish_notice": m.op(
            "POST",
            m._api(lambda c: f"/notices/{n(c)['draft'].id}/publish"),
            manage_x,
            data=lambda c, _n: {},
        ),
        "wuye_notices_api_withdraw_notice": m.op(
            "POST",
            m._api(lambda c: f"/notices/{n(c)['published'].id}/withdraw"),
            manage_x,
            data=lambda c, _n: {"note": "矩阵"},
        ),
        "wuye_notices_api_list_receipts": m.op(
            "GET", m._api(lambda c: f"/notices/{n(c)['published'].id}/receipts"), view_x
        ),
        "wuye_notices_api_read_stats": m.op(
            "GET", m._api(lambda c: f"/notices/{n(c)['published'].id}/read-stats"), view_x
        ),
        "wuye_notices_api_list_my_notices": m.op(
            "GET",
            m._api(lambda c: "/resident/notices"),
            residents_x,
            target=lambda c: n(c)["published"].id,
        ),
        "wuye_notices_api_get_my_notice": m.op(
            "GET", m._api(lambda c: f"/resident/notices/{n(c)['published'].id}"), residents_x
        ),
        "wuye_notices_api_mark_my_notice_read": m.op(
            "POST",
            m._api(lambda c: f"/resident/notices/{n(c)['unread'].id}/read"),
            residents_x,
            data=lambda c, _n: {},
        ),
    }
    return pages, api
