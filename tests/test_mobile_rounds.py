"""The field worker's round pages (/m/rounds/ and the QR check-in): today's tasks,
check-in, the typed checklist with photos, abnormal readings to work orders, the
one-tap repair, finishing (issue 4, part 5)."""

import datetime
import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.facility_helpers import make_pump_round
from wuye.core.models import Photo
from wuye.facilities.models import Answer, Checkpoint, PlanStop, Task, Visit
from wuye.workorders.models import Category, Channel, WorkOrder

CST = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 30, tzinfo=CST), tick=False)
    return time_machine


@pytest.fixture
def pump_round(cast, frozen):
    return make_pump_round(cast, DAY)


@pytest.fixture
def tech(cast):
    return cast.client("technician")


def jpeg(name="photo.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def landing(token):
    return reverse("qr:landing", args=[token])


def check_in(client, code, **extra):
    return client.post(reverse("rounds_field:scan"), {"code": code, **extra})


def answers(round_, pressure="0.45", noise="normal", **extra):
    return {
        f"items[{round_['pressure'].pk}]": pressure,
        f"items[{round_['noise'].pk}]": noise,
        **extra,
    }


def visit_url(visit):
    return reverse("rounds_field:visit", args=[visit.pk])


def text(response):
    return html.unescape(response.content.decode())


def test_a_round_through_the_pages(cast, pump_round, tech):
    page = text(tech.get(reverse("rounds_field:today")))
    assert pump_round["plan"].name in page and "0 of 1 stops visited" in page
    assert "SB-0001 1号生活水泵" in page and "Not yet" in page

    checkin = tech.get(landing(pump_round["pump"].qr_token))
    assert checkin.status_code == 200
    assert "Stop 1 of 1" in text(checkin) and "Check in and open the checklist" in text(checkin)
    assert not Visit.objects.exists()  # looking at the label writes nothing

    response = check_in(
        tech, pump_round["pump"].qr_token, latitude="31.2304161", longitude="121.4737012"
    )
    visit = Visit.objects.get()
    assert response.status_code == 302 and response.url == visit_url(visit)
    assert (str(visit.latitude), str(visit.longitude)) == ("31.230416", "121.473701")
    assert visit.timing == Visit.Timing.ON_TIME

    form = text(tech.get(visit_url(visit)))
    assert "出水压力" in form and "In MPa. Normal 0.3–0.6" in form
    assert 'capture="environment"' in form and "An abnormal answer opens a repair order." in form
    # Scanning the label again now goes straight to the checklist.
    assert tech.get(landing(pump_round["pump"].qr_token)).url == visit_url(visit)

    response = tech.post(visit_url(visit), answers(pump_round, pressure="0.45 MPa"))
    assert response.status_code == 302
    assert [(a.value, a.is_abnormal) for a in Answer.objects.order_by("item__position")] == [
        ("0.450", False),
        (True, False),
    ]
    done = text(tech.get(visit_url(visit)))
    assert "Recorded answers" in done and "0.45 MPa" in done and "Normal" in done
    assert "answered here" in text(tech.get(landing(pump_round["pump"].qr_token)))

    page = text(tech.get(reverse("rounds_field:today")))
    assert "1 of 1 stops visited" in page
    response = tech.post(reverse("rounds_field:finish", args=[pump_round["task"].pk]), follow=True)
    assert "Round finished." in text(response)
    assert Task.objects.get().status == Task.Status.DONE
    assert not WorkOrder.objects.exists()


def test_an_abnormal_reading_opens_an_order_linked_to_the_pump(cast, pump_round, tech):
    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    response = tech.post(visit_url(visit), answers(pump_round, pressure="0.2", noise="abnormal"))
    order = WorkOrder.objects.get()
    assert order.asset == pump_round["pump"] and order.channel == Channel.INSPECTION
    assert f"Work order {order.number} was opened" in text(tech.get(response.url))
    page = text(tech.get(visit_url(visit)))
    assert f"Work order {order.number} was opened; the desk will dispatch it." in page
    assert page.count("Report a repair") == 1  # the noise: abnormal, opens nothing by rule

    noise = Answer.objects.get(item=pump_round["noise"])
    lights = Category.objects.get(company=cast.company, code="lights_sockets")
    response = tech.post(
        reverse("rounds_field:report_answer", args=[noise.pk]), {"category": lights.pk}
    )
    assert response.status_code == 302
    repair = WorkOrder.objects.exclude(pk=order.pk).get()
    assert repair.asset == pump_round["pump"] and repair.category == lights
    assert "运行声音 is abnormal (Abnormal)" in repair.description
    noise.refresh_from_db()
    assert noise.work_order == repair
    # The button is gone, and a second tap files nothing more.
    assert "Report a repair" not in text(tech.get(visit_url(visit)))
    response = tech.post(
        reverse("rounds_field:report_answer", args=[noise.pk]), {"category": lights.pk}, follow=True
    )
    assert "A work order was already opened for this answer." in text(response)
    assert WorkOrder.objects.count() == 2


def test_the_order_links_to_the_field_page_once_it_is_mine(cast, pump_round, tech):
    from wuye.workorders import services as wo

    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    tech.post(visit_url(visit), answers(pump_round, pressure="0.9"))
    order = WorkOrder.objects.get()
    desk = cast.actor("dispatcher")
    wo.dispatch_order(
        actor=desk,
        order=wo.accept_order(actor=desk, order=order),
        assignee=cast.staff["technician"],
    )
    link = reverse("orders_field:order_detail", args=[order.pk])
    assert f'href="{link}"' in text(tech.get(visit_url(visit)))


def test_a_repair_needs_a_category_of_the_company(cast, pump_round, tech):
    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    tech.post(visit_url(visit), answers(pump_round, noise="abnormal"))
    noise = Answer.objects.get(item=pump_round["noise"])
    other = Category.objects.get(company=cast.other_company, code="lights_sockets")
    url = reverse("rounds_field:report_answer", args=[noise.pk])
    for data in ({}, {"category": other.pk}):
        response = tech.post(url, data, follow=True)
        assert "Choose" in text(response)
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize(
    ("pressure", "error"),
    [
        ("45 kPa", "Enter the value in MPa, not kPa."),
        ("4500000000", "This number is far too large; check it."),
        ("about half", "Enter a number, e.g. 0.45."),
    ],
)
def test_a_wrong_unit_or_absurd_reading_is_an_item_error_and_saves_nothing(
    cast, pump_round, tech, pressure, error
):
    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    photo_of_noise = f"photos[{pump_round['noise'].pk}]"
    response = tech.post(
        visit_url(visit), answers(pump_round, pressure, **{photo_of_noise: jpeg()})
    )
    assert response.status_code == 400
    page = text(response)
    assert error in page and "Nothing was saved" in page
    assert f'value="{pressure}"' in page  # what was typed stays for correcting
    assert not Answer.objects.exists() and not WorkOrder.objects.exists()
    assert not Photo.objects.exists()  # the noise's photo was not kept either


def test_a_photo_required_item_without_a_photo(cast, pump_round, tech):
    noise = pump_round["noise"]
    noise.photo_required = True
    noise.save()
    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    assert "Take a photo (required)" in text(tech.get(visit_url(visit)))
    response = tech.post(visit_url(visit), answers(pump_round))
    assert response.status_code == 400
    assert "Take a photo for “运行声音”." in text(response)
    assert not Answer.objects.exists()

    response = tech.post(visit_url(visit), answers(pump_round, **{f"photos[{noise.pk}]": jpeg()}))
    assert response.status_code == 302
    answer = Answer.objects.get(item=noise)
    photo = answer.photos.get()
    assert photo.uploaded_by == cast.users["technician"]
    assert reverse("photos:thumbnail", args=[photo.pk]) in text(tech.get(visit_url(visit)))


def test_a_bad_file_is_an_item_error(cast, pump_round, tech):
    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    bad = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = tech.post(
        visit_url(visit), answers(pump_round, **{f"photos[{pump_round['noise'].pk}]": bad})
    )
    assert response.status_code == 400 and "x.jpg" in text(response)
    assert not Answer.objects.exists()


def test_a_second_check_in_is_refused_with_a_message(cast, pump_round, tech):
    check_in(tech, pump_round["pump"].qr_token)
    response = check_in(tech, pump_round["pump"].qr_token)
    assert response.status_code == 400
    assert "You already checked in here for this task." in text(response)
    assert Visit.objects.count() == 1


def test_a_damaged_label_by_typed_asset_code(cast, pump_round, tech):
    response = check_in(tech, " sb-0001 ", latitude="north", longitude="999")
    visit = Visit.objects.get()
    assert response.url == visit_url(visit)
    assert visit.latitude is None and visit.longitude is None  # a bad position is left out


@pytest.mark.parametrize("code", ["", "SB-9999", "not-a-code"])
def test_an_unknown_typed_code_is_a_form_error(cast, pump_round, tech, code):
    response = check_in(tech, code)
    assert response.status_code == 400
    message = (
        "This field is required." if not code else "This QR code is not one of your community's."
    )
    assert message in text(response)
    assert not Visit.objects.exists()


def test_finishing_with_stops_missing_names_them(cast, pump_round, tech):
    lobby = Checkpoint.objects.create(company=cast.company, community=cast.community_x, name="大堂")
    PlanStop.objects.create(plan=pump_round["plan"], position=2, checkpoint=lobby)
    check_in(tech, pump_round["pump"].qr_token)
    tech.post(visit_url(Visit.objects.get()), answers(pump_round))
    page = text(tech.get(reverse("rounds_field:today")))
    assert "1 of 2 stops visited" in page and "大堂" in page
    response = tech.post(reverse("rounds_field:finish", args=[pump_round["task"].pk]), follow=True)
    assert "Check in and answer at every stop first: 大堂." in text(response)
    assert Task.objects.get().status == Task.Status.IN_PROGRESS


def test_maintenance_finishes_into_acceptance(cast, pump_round, tech):
    pump_round["plan"].requires_acceptance = True
    pump_round["plan"].save()
    check_in(tech, pump_round["pump"].qr_token)
    tech.post(visit_url(Visit.objects.get()), answers(pump_round))
    response = tech.post(reverse("rounds_field:finish", args=[pump_round["task"].pk]), follow=True)
    assert "waits for the supervisor's acceptance" in text(response)


def test_overdue_open_tasks_show_with_their_date(cast, pump_round, tech, frozen):
    frozen.move_to(datetime.datetime(2026, 12, 1, 8, 0, tzinfo=CST), tick=False)
    page = text(tech.get(reverse("rounds_field:today")))
    assert pump_round["plan"].name in page and "11-30" in page
    Task.objects.update(status=Task.Status.MISSED)
    assert pump_round["plan"].name not in text(tech.get(reverse("rounds_field:today")))


def test_only_my_own_rounds(cast, pump_round, tech):
    check_in(tech, pump_round["pump"].qr_token)
    visit = Visit.objects.get()
    guard = cast.client("guard")  # a field worker of X with no task here
    assert pump_round["plan"].name not in text(guard.get(reverse("rounds_field:today")))
    assert guard.get(visit_url(visit)).status_code == 404
    assert guard.post(visit_url(visit), answers(pump_round)).status_code == 404
    finish = reverse("rounds_field:finish", args=[pump_round["task"].pk])
    assert guard.post(finish).status_code == 404
    response = check_in(guard, pump_round["pump"].qr_token)
    assert response.status_code == 400 and "You have no open task at" in text(response)
    for who in ("resident_a", "dispatcher"):
        assert cast.client(who).get(reverse("rounds_field:today")).status_code == 403
    assert not Answer.objects.exists() and Visit.objects.count() == 1


def test_today_page_queries_do_not_grow_with_stops(
    cast, pump_round, tech, django_assert_max_num_queries
):
    for position in range(2, 12):
        point = Checkpoint.objects.create(
            company=cast.company, community=cast.community_x, name=f"巡更点{position}"
        )
        PlanStop.objects.create(plan=pump_round["plan"], position=position, checkpoint=point)
    check_in(tech, pump_round["pump"].qr_token)
    with django_assert_max_num_queries(14):
        response = tech.get(reverse("rounds_field:today"))
    assert "1 of 11 stops visited" in text(response)
