"""Photos on work orders: the upload API, photo_ids on submit/complete/rate, the phone
forms' photo inputs, thumbnails in the timelines and who may open a photo."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from tests.api_helpers import API, bearer_client, get, post
from wuye.core import photos as core_photos
from wuye.core.images import save_photo
from wuye.core.models import Photo
from wuye.people.models import Residency
from wuye.workorders import services as wo
from wuye.workorders.models import (
    Category,
    Channel,
    EventType,
    Feedback,
    Status,
    WorkOrder,
    WorkOrderEvent,
)

NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


# --- test images ----------------------------------------------------------------------
def noise(size=(640, 480)) -> Image.Image:
    """A photo-like image that does not compress to nothing."""
    return Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)])


def encode(fmt: str, size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    noise(size).save(buffer, fmt)
    return buffer.getvalue()


def jpeg(name="photo.jpg", size=(640, 480)):
    return SimpleUploadedFile(name, encode("JPEG", size), content_type="image/jpeg")


def png(name="photo.png"):
    return SimpleUploadedFile(name, encode("PNG", (300, 200)), content_type="image/png")


def text_file(name="notes.jpg"):
    return SimpleUploadedFile(name, b"not a photo at all\n" * 20, content_type="image/jpeg")


def truncated(name="broken.jpg"):
    data = encode("JPEG")
    return SimpleUploadedFile(name, data[: len(data) // 2], content_type="image/jpeg")


def stored_files(media) -> list[str]:
    if not media.exists():
        return []
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def photo_of(cast, who, company=None) -> Photo:
    return save_photo(actor=cast.actor(who), uploaded=jpeg(), company=company or cast.company)


# --- work orders ----------------------------------------------------------------------
def category(cast, code="windows_glass"):
    return Category.objects.get(company=cast.company, code=code)


def submitted(cast, photos=()):
    return wo.submit_order(
        actor=cast.actor("resident_a"),
        category=category(cast),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="窗户玻璃裂了",
        photos=photos,
    )


def in_progress(cast):
    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=submitted(cast))
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    return wo.arrive(actor=me, order=wo.take_order(actor=me, order=order))


def completed(cast, photos=()):
    return wo.complete_order(
        actor=cast.actor("technician"),
        order=in_progress(cast),
        resolution="换了玻璃",
        photos=photos,
    )


def event_photos(order, event_type) -> list[Photo]:
    return list(order.events.get(type=event_type).photos.order_by("id"))


def upload(client, file, **data):
    return client.post(API + "/photos", {"file": file, **data})


# --- upload API -----------------------------------------------------------------------
@pytest.mark.parametrize("make", [jpeg, png], ids=["jpeg", "png"])
def test_upload_returns_the_stored_photo(cast, media, make):
    client = bearer_client(cast.users["resident_a"])
    response = upload(client, make())
    assert response.status_code == 201, response.content
    body = response.json()
    photo = Photo.objects.get()
    assert body == {
        "id": photo.id,
        "url": f"/photos/{photo.id}/",
        "thumbnail_url": f"/photos/{photo.id}/thumb/",
        "width": photo.width,
        "height": photo.height,
    }
    assert (photo.company, photo.uploaded_by) == (cast.company, cast.users["resident_a"])
    assert photo.file.name.endswith(".jpg") and (media / photo.file.name).exists()
    with Image.open(media / photo.file.name) as stored:
        assert stored.format == "JPEG" and stored.size == (body["width"], body["height"])


def test_staff_upload_for_their_employer(cast):
    response = upload(bearer_client(cast.users["other_admin"]), jpeg())
    assert response.status_code == 201
    assert Photo.objects.get().company == cast.other_company


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (text_file, "Upload a JPEG, PNG or WebP photo."),
        (truncated, "The photo is damaged or incomplete. Take or choose it again."),
    ],
    ids=["text", "truncated"],
)
def test_bad_files_are_a_400_on_file(cast, media, make, message):
    response = upload(bearer_client(cast.users["resident_a"]), make())
    assert response.status_code == 400
    assert response.json() == {"detail": {"file": [message]}}
    assert not Photo.objects.exists() and stored_files(media) == []


def test_oversized_upload_is_refused(cast, media, settings):
    settings.PHOTO_MAX_BYTES = 20_000
    response = upload(bearer_client(cast.users["resident_a"]), jpeg())
    assert response.status_code == 400
    assert response.json()["detail"]["file"] == ["The photo is larger than 0.0190735 MB."]
    assert not Photo.objects.exists() and stored_files(media) == []


def test_upload_without_a_file_is_a_422(cast):
    response = bearer_client(cast.users["resident_a"]).post(API + "/photos", {})
    assert response.status_code == 422
    assert not Photo.objects.exists()


def test_upload_needs_a_company_of_ones_own(cast):
    assert upload(bearer_client(cast.users["nobody"]), jpeg()).status_code == 403
    response = upload(
        bearer_client(cast.users["resident_a"]), jpeg(), company_id=cast.other_company.id
    )
    assert response.status_code == 403
    from django.test import Client

    assert Client().post(API + "/photos", {"file": jpeg()}).status_code == 401
    assert not Photo.objects.exists()


def test_a_resident_of_two_companies_chooses_one(cast):
    Residency.objects.create(
        resident=cast.resident_a,
        house=cast.other_house,
        relation="tenant",
        move_in=datetime.date(2024, 1, 1),
    )
    client = bearer_client(cast.users["resident_a"])
    response = upload(client, jpeg())
    assert response.status_code == 400 and "company_id" in response.json()["detail"]
    response = upload(client, jpeg(), company_id=cast.other_company.id)
    assert response.status_code == 201
    assert Photo.objects.get().company == cast.other_company


# --- photo_ids on submit, complete and rate -------------------------------------------
def test_submit_complete_and_rate_with_photo_ids(cast, frozen):
    resident = bearer_client(cast.users["resident_a"])
    first = upload(resident, jpeg()).json()["id"]
    second = upload(resident, png()).json()["id"]
    response = post(
        resident,
        "/work-orders",
        {
            "category_id": category(cast).id,
            "house_id": cast.house_a.id,
            "description": "窗户玻璃裂了",
            "photo_ids": [second, first, second],
        },
    )
    assert response.status_code == 201, response.content
    order = WorkOrder.objects.get(pk=response.json()["id"])
    assert [p.id for p in event_photos(order, EventType.SUBMITTED)] == [first, second]

    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.arrive(actor=me, order=wo.take_order(actor=me, order=order))
    tech = bearer_client(cast.users["technician"])
    done = upload(tech, jpeg()).json()["id"]
    response = post(
        tech,
        f"/work-orders/{order.id}/complete",
        {"resolution": "换了玻璃", "photo_ids": [done]},
    )
    assert response.status_code == 200, response.content
    assert [p.id for p in event_photos(order, EventType.COMPLETED)] == [done]

    rating = upload(resident, jpeg()).json()["id"]
    response = post(
        resident, f"/work-orders/{order.id}/rate", {"overall": 5, "photo_ids": [rating]}
    )
    assert response.status_code == 200, response.content
    assert [p.id for p in event_photos(order, EventType.RATED)] == [rating]

    events = get(resident, f"/work-orders/{order.id}/events").json()["results"]
    by_type = {e["type"]: e["photos"] for e in events}
    assert [p["id"] for p in by_type["submitted"]] == [first, second]
    assert by_type["completed"] == [
        {
            "id": done,
            "url": f"/photos/{done}/",
            "thumbnail_url": f"/photos/{done}/thumb/",
            "width": 640,
            "height": 480,
        }
    ]
    assert [p["id"] for p in by_type["rated"]] == [rating]
    assert by_type["accepted"] == []


def _submit_payload(cast, photo_ids):
    return {
        "category_id": category(cast).id,
        "house_id": cast.house_a.id,
        "description": "窗户玻璃裂了",
        "photo_ids": photo_ids,
    }


@pytest.mark.parametrize("whose", ["resident_b", "dispatcher", "missing"])
def test_someone_elses_or_unknown_photo_id_is_refused(cast, frozen, whose):
    photo_id = 987654 if whose == "missing" else photo_of(cast, whose).id
    resident = bearer_client(cast.users["resident_a"])
    response = post(resident, "/work-orders", _submit_payload(cast, [photo_id]))
    assert response.status_code == 400
    assert response.json() == {
        "detail": {"photo_ids": ["No such item, or it is outside your scope."]}
    }
    assert not WorkOrder.objects.exists()


def test_someone_elses_photo_is_refused_on_complete_and_rate(cast, frozen):
    order = in_progress(cast)
    resident_photo = photo_of(cast, "resident_a")
    tech = bearer_client(cast.users["technician"])
    response = post(
        tech,
        f"/work-orders/{order.id}/complete",
        {"resolution": "换了玻璃", "photo_ids": [resident_photo.id]},
    )
    assert response.status_code == 400 and "photo_ids" in response.json()["detail"]
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS

    order = wo.complete_order(actor=cast.actor("technician"), order=order, resolution="换了玻璃")
    tech_photo = photo_of(cast, "technician")
    response = post(
        bearer_client(cast.users["resident_a"]),
        f"/work-orders/{order.id}/rate",
        {"overall": 5, "photo_ids": [tech_photo.id]},
    )
    assert response.status_code == 400 and "photo_ids" in response.json()["detail"]
    assert not Feedback.objects.exists()


def test_more_than_nine_photo_ids_is_a_422(cast, frozen):
    resident = bearer_client(cast.users["resident_a"])
    response = post(resident, "/work-orders", _submit_payload(cast, list(range(1, 11))))
    assert response.status_code == 422
    assert not WorkOrder.objects.exists()


def test_a_photo_of_another_company_is_refused_on_photo_ids(cast, frozen):
    """The resident's own upload, but for the other company where they also live: the
    service refuses it and the API names photo_ids."""
    Residency.objects.create(
        resident=cast.resident_a,
        house=cast.other_house,
        relation="tenant",
        move_in=datetime.date(2024, 1, 1),
    )
    photo = photo_of(cast, "resident_a", company=cast.other_company)
    response = post(
        bearer_client(cast.users["resident_a"]), "/work-orders", _submit_payload(cast, [photo.id])
    )
    assert response.status_code == 400
    assert response.json() == {"detail": {"photo_ids": ["Attach photos you uploaded yourself."]}}
    assert not WorkOrder.objects.exists()


# --- resident H5 forms ------------------------------------------------------------------
def report_data(cast, **overrides):
    data = {
        "category": category(cast).pk,
        "place": f"h{cast.house_a.pk}",
        "description": "厨房水龙头漏水",
        "contact_name": "张伟",
        "contact_mobile": "13800000001",
    }
    data.update(overrides)
    return data


def report_url():
    return reverse("orders_resident:report_form", args=["repair"])


def test_report_form_offers_a_photo_input(cast):
    client = cast.client("resident_a")
    page = client.get(report_url(), {"category": category(cast).pk})
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert '<input type="file" name="photos" accept="image/*"' in html and "multiple" in html


def test_h5_report_with_photos(cast, frozen, media):
    client = cast.client("resident_a")
    response = client.post(report_url(), report_data(cast, photos=[jpeg(), png()]))
    assert response.status_code == 302, response.context["form"].errors
    order = WorkOrder.objects.get()
    attached = event_photos(order, EventType.SUBMITTED)
    assert len(attached) == 2
    assert {(p.company_id, p.uploaded_by_id) for p in attached} == {
        (cast.company.id, cast.users["resident_a"].id)
    }
    assert all((media / p.file.name).exists() for p in attached)

    detail = client.get(reverse("orders_resident:order_detail", args=[order.pk]))
    html = detail.content.decode()
    for photo in attached:
        assert f'href="/photos/{photo.id}/"' in html and f'src="/photos/{photo.id}/thumb/"' in html


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (lambda: [jpeg(), text_file("a.jpg")], "a.jpg: Upload a JPEG, PNG or WebP photo."),
        (
            lambda: [truncated("b.jpg")],
            "b.jpg: The photo is damaged or incomplete. Take or choose it again.",
        ),
        (lambda: [jpeg(f"{n}.jpg", (40, 30)) for n in range(10)], "Choose at most 9 photos."),
    ],
    ids=["text", "truncated", "ten"],
)
def test_h5_report_with_a_bad_photo_saves_nothing(cast, frozen, media, files, message):
    client = cast.client("resident_a")
    response = client.post(report_url(), report_data(cast, photos=files()))
    assert response.status_code == 200
    assert response.context["form"].errors["photos"] == [message]
    assert message in response.content.decode()
    assert "Please choose the photos again." not in response.content.decode()
    assert not WorkOrder.objects.exists() and not Photo.objects.exists()
    assert stored_files(media) == []


def test_h5_report_refused_by_the_service_leaves_no_photo(cast, frozen, media, monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        assert len(kwargs["photos"]) == 1 and Photo.objects.count() == 1
        raise ValidationError({"description": "Refused for the test."})

    monkeypatch.setattr(wo, "submit_order", refuse)
    response = cast.client("resident_a").post(report_url(), report_data(cast, photos=[jpeg()]))
    assert response.status_code == 200
    assert response.context["form"].errors["description"] == ["Refused for the test."]
    assert "Please choose the photos again." in response.content.decode()
    assert not Photo.objects.exists() and stored_files(media) == []


def test_h5_rate_with_a_photo(cast, frozen):
    order = completed(cast)
    client = cast.client("resident_a")
    url = reverse("orders_resident:rate", args=[order.pk])
    page = client.get(url)
    assert 'enctype="multipart/form-data"' in page.content.decode()
    assert "photos" in page.context["form"].fields

    response = client.post(url, {"overall": "2", "photos": [text_file()]})
    assert response.status_code == 200 and "photos" in response.context["form"].errors
    assert not Feedback.objects.exists() and not Photo.objects.exists()

    response = client.post(url, {"overall": "5", "comment": "很好", "photos": [jpeg()]})
    assert response.status_code == 302
    order.refresh_from_db()
    (photo,) = event_photos(order, EventType.RATED)
    assert photo.uploaded_by == cast.users["resident_a"] and order.feedback.overall == 5


# --- field completion -----------------------------------------------------------------
def test_field_completion_with_photos(cast, frozen, media):
    order = in_progress(cast)
    client = cast.client("technician")
    url = reverse("orders_field:complete", args=[order.pk])
    page = client.get(url)
    assert 'enctype="multipart/form-data"' in page.content.decode()

    response = client.post(
        url, {"resolution": "换了玻璃", "materials-TOTAL_FORMS": "0", "photos": [text_file()]}
    )
    assert response.status_code == 400 and "photos" in response.context["form"].errors
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS and not Photo.objects.exists()

    response = client.post(
        url,
        {
            "resolution": "换了玻璃",
            "materials-TOTAL_FORMS": "0",
            "materials-INITIAL_FORMS": "0",
            "photos": [jpeg("before.jpg"), jpeg("after.jpg")],
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    attached = event_photos(order, EventType.COMPLETED)
    assert [p.uploaded_by for p in attached] == [cast.users["technician"]] * 2
    detail = client.get(reverse("orders_field:order_detail", args=[order.pk]))
    assert f'src="/photos/{attached[0].id}/thumb/"' in detail.content.decode()


# --- who sees a photo -------------------------------------------------------------------
SEES_PUBLIC = [
    "resident_a",
    "technician",
    "dispatcher",
    "project_manager",
    "finance",
    "company_admin",
]
DOES_NOT_SEE = ["resident_b", "other_resident", "other_admin", "technician_y", "guard", "nobody"]


@pytest.mark.parametrize("route", ["photos:file", "photos:thumbnail"])
def test_photo_is_served_to_those_who_see_the_order(cast, frozen, route):
    order = completed(cast, photos=[photo_of(cast, "technician")])
    (photo,) = event_photos(order, EventType.COMPLETED)
    url = reverse(route, args=[photo.id])
    for name in SEES_PUBLIC:
        response = cast.client(name).get(url)
        assert response.status_code == 200, name
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, max-age=3600"
        with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
            assert image.format == "JPEG"
            expected = (640, 480) if route == "photos:file" else (360, 270)
            assert image.size == expected, name
    for name in DOES_NOT_SEE:
        assert cast.client(name).get(url).status_code == 404, name
    anonymous = cast.client(None).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url


def test_unattached_photo_only_to_its_uploader(cast):
    photo = photo_of(cast, "resident_a")
    url = reverse("photos:file", args=[photo.id])
    assert cast.client("resident_a").get(url).status_code == 200
    for name in ["resident_b", "dispatcher", "company_admin"]:
        assert cast.client(name).get(url).status_code == 404, name
    assert cast.client("resident_a").get("/photos/99999999999999999999999/").status_code == 404


def test_staff_only_step_photo_is_hidden_from_the_resident(cast, frozen):
    order = submitted(cast)
    photo = photo_of(cast, "dispatcher")
    note = WorkOrderEvent.objects.create(
        order=order,
        type=EventType.COMMENTED,
        actor=cast.users["dispatcher"],
        note="内部备注",
        is_public=False,
        created_at=NOW,
    )
    note.photos.set([photo])
    url = reverse("photos:file", args=[photo.id])
    assert cast.client("resident_a").get(url).status_code == 404
    assert cast.client("project_manager").get(url).status_code == 200
    assert cast.client("other_admin").get(url).status_code == 404


def test_complaints_photos_stay_with_the_reporter(cast, frozen):
    """Household members see each other's repairs, never each other's complaints."""
    Residency.objects.create(
        resident=cast.resident_b,
        house=cast.house_a,
        relation="family",
        move_in=datetime.date(2024, 1, 1),
    )
    complaint = Category.objects.filter(company=cast.company, request_type="complaint").filter(
        children__isnull=True
    )[0]
    repair_photo, complaint_photo = photo_of(cast, "resident_a"), photo_of(cast, "resident_a")
    submitted(cast, photos=[repair_photo])
    wo.submit_order(
        actor=cast.actor("resident_a"),
        category=complaint,
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="噪音",
        photos=[complaint_photo],
    )
    b = cast.client("resident_b")
    assert b.get(reverse("photos:file", args=[repair_photo.id])).status_code == 200
    assert b.get(reverse("photos:file", args=[complaint_photo.id])).status_code == 404


def test_thumbnail_is_made_once(cast, frozen, media, monkeypatch):
    order = completed(cast, photos=[photo_of(cast, "technician")])
    (photo,) = event_photos(order, EventType.COMPLETED)
    url = reverse("photos:thumbnail", args=[photo.id])
    client = cast.client("dispatcher")
    assert client.get(url).status_code == 200
    name = core_photos.thumbnail_name(photo)
    first = (media / name).stat().st_mtime_ns
    monkeypatch.setattr(core_photos.Image, "open", lambda *a, **k: pytest.fail("re-made"))
    assert client.get(url).status_code == 200
    assert (media / name).stat().st_mtime_ns == first
    assert [f for f in stored_files(media) if f.startswith("thumbs/")] == [name]


def test_small_photo_is_its_own_thumbnail(cast, media):
    photo = save_photo(
        actor=cast.actor("resident_a"), uploaded=jpeg(size=(200, 100)), company=cast.company
    )
    assert core_photos.thumbnail(photo) == photo.file.name
    assert not any(f.startswith("thumbs/") for f in stored_files(media))


# --- timelines: thumbnails without N+1 --------------------------------------------------
def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("who", "route", "public_only"),
    [
        ("resident_a", "orders_resident:order_detail", True),
        ("technician", "orders_field:order_detail", False),
        ("dispatcher", "orders_console:order_detail", False),
    ],
)
def test_timeline_thumbnails_without_n_plus_1(cast, frozen, who, route, public_only):
    order = completed(cast)
    url = reverse(route, args=[order.pk])
    client = cast.client(who)
    client.get(url)
    without_photos = _queries(client, url)
    for n in range(6):  # more steps, and every step with photos: the same queries
        WorkOrderEvent.objects.create(
            order=order, type=EventType.COMMENTED, note=f"第{n}条", created_at=NOW
        )
    events = order.events.filter(is_public=True) if public_only else order.events.all()
    for event in order.events.all():
        event.photos.set([photo_of(cast, "resident_a") for _ in range(3)])
    with_photos = _queries(client, url)
    assert with_photos == without_photos
    html = client.get(url).content.decode()
    assert html.count('<ul class="event-photos">') == events.count() >= 11
    shown = Photo.objects.filter(id__in=events.values("photos"))
    for photo in shown:
        assert f'<a href="/photos/{photo.id}/"' in html
        assert f'<img src="/photos/{photo.id}/thumb/"' in html


def test_a_retried_upload_with_the_same_key_is_replayed(cast, media):
    from django.test.client import MULTIPART_CONTENT, encode_multipart

    client = bearer_client(cast.users["resident_a"])
    body = encode_multipart("BoUnDaRy", {"file": jpeg()})
    content_type = MULTIPART_CONTENT.replace("BoUnDaRyStRiNg", "BoUnDaRy")
    headers = {"HTTP_IDEMPOTENCY_KEY": "photo-retry-1"}
    first = client.post(API + "/photos", body, content_type=content_type, **headers)
    again = client.post(API + "/photos", body, content_type=content_type, **headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert Photo.objects.count() == 1


def test_the_same_key_with_another_photo_is_refused(cast, media):
    client = bearer_client(cast.users["resident_a"])
    headers = {"HTTP_IDEMPOTENCY_KEY": "photo-retry-2"}
    first = client.post(API + "/photos", {"file": jpeg()}, **headers)
    other = client.post(API + "/photos", {"file": png()}, **headers)
    assert first.status_code == 201 and other.status_code == 422
    assert Photo.objects.count() == 1
