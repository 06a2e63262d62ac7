"""The page a printed QR label opens (/q/<token>/): the check-in for the worker with a
round there today, a card for other staff, a prefilled fault report for residents of
the community, and one "not recognised" page for everything else (issue 4, part 8)."""

import datetime
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.conftest import make_resident
from tests.facility_helpers import make_pump_round
from wuye.facilities import rounds
from wuye.facilities import services as fac
from wuye.facilities.models import AssetCategory, Checkpoint, Visit
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


def landing(token):
    return reverse("qr:landing", args=[token])


def text(response):
    return html.unescape(response.content.decode())


def pump_in(cast, community, admin="company_admin"):
    return fac.create_asset(
        actor=cast.actor(admin),
        community=community,
        category=AssetCategory.objects.get(company=community.company, code="water_pump"),
        name="别处的水泵",
    )


def not_recognised(response, token) -> str:
    """The page without what differs per request (CSRF tokens, its own address)."""
    assert response.status_code == 404
    page = text(response).replace(token, "<token>")
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_anonymous_signs_in_first_and_comes_back(cast, pump_round):
    from django.test import Client

    url = landing(pump_round["pump"].qr_token)
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


def test_foreign_and_unknown_codes_get_the_same_page(cast, pump_round):
    in_y = pump_in(cast, cast.community_y)
    elsewhere = pump_in(cast, cast.other_community, admin="other_admin")
    client = cast.client("technician")
    pages = {
        not_recognised(client.get(landing(token)), token)
        for token in (in_y.qr_token, elsewhere.qr_token, "made-up-code")
    }
    assert len(pages) == 1
    page = pages.pop()
    assert "We do not recognise this code" in page and "别处的水泵" not in page
    # Staff of company B or of Y only, residents elsewhere and strangers: X's pump is
    # the same to them as a made-up code.
    token = pump_round["pump"].qr_token
    for who in ("other_admin", "other_resident", "nobody", "technician_y", "finance"):
        client = cast.client(who)
        made_up = not_recognised(client.get(landing("made-up-code")), "made-up-code")
        assert not_recognised(client.get(landing(token)), token) == made_up, who


def test_the_worker_with_a_round_here_checks_in(cast, pump_round):
    client = cast.client("technician")
    page = text(client.get(landing(pump_round["pump"].qr_token)))
    assert "水泵房日检" in page and "09:00–11:00" in page
    assert f'action="{reverse("rounds_field:scan")}"' in page
    assert 'data-geo="load"' in page
    assert "counts as early" not in page


def test_an_early_scan_is_announced(cast, pump_round, frozen):
    frozen.move_to(datetime.datetime(2026, 11, 30, 8, 40, tzinfo=CST), tick=False)
    page = text(cast.client("technician").get(landing(pump_round["pump"].qr_token)))
    assert "The window opens at 09:00: a check-in now counts as early." in page


def test_a_worker_without_a_round_here_sees_the_card(cast, pump_round, frozen):
    frozen.move_to(datetime.datetime(2026, 12, 1, 9, 30, tzinfo=CST), tick=False)
    page = text(cast.client("guard").get(landing(pump_round["pump"].qr_token)))
    assert "You have no open round at this place today." in page
    assert "SB-0001" in page and "Running" in page and "None yet" in page
    assert "Open in the console" not in page  # field staff do not view the ledger


def test_office_staff_see_the_card_with_last_inspection_and_open_orders(cast, pump_round):
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.1", pump_round["noise"].pk: "正常"},
    )
    order = WorkOrder.objects.get()
    response = cast.client("dispatcher").get(landing(pump_round["pump"].qr_token))
    assert response.status_code == 200
    page = text(response)
    assert "1号生活水泵" in page and "SB-0001" in page
    assert "2026-11-30 09:30" in page and "technician" in page  # last inspection, by whom
    assert order.number in page
    assert reverse("ledger:asset_detail", args=[pump_round["pump"].pk]) in page
    assert "You have no open round" not in page  # the desk does no rounds
    assert not Visit.objects.exclude(pk=visit.pk).exists()


def test_a_worker_who_answered_here_is_told_so(cast, pump_round):
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    client = cast.client("technician")
    assert client.get(landing(pump_round["pump"].qr_token)).url == reverse(
        "rounds_field:visit", args=[visit.pk]
    )
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.4", pump_round["noise"].pk: "正常"},
    )
    page = text(client.get(landing(pump_round["pump"].qr_token)))
    assert "You have checked in and answered here" in page


def test_a_checkpoint_card(cast, frozen):
    point = Checkpoint.objects.create(company=cast.company, community=cast.community_x, name="北门")
    page = text(cast.client("dispatcher").get(landing(point.qr_token)))
    assert "北门" in page and "Open work orders" not in page


def jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile("fault.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_resident_reports_a_fault_at_the_pump(cast, pump_round):
    client = cast.client("resident_a")
    token = pump_round["pump"].qr_token
    page = text(client.get(landing(token)))
    assert "Report a fault" in page and "1号生活水泵" in page
    assert 'value="张伟"' in page and 'value="13800000001"' in page  # contact prefilled
    assert "Complaint" not in page and "Staff may enter" not in page
    category = Category.objects.get(company=cast.company, code="water_leak")
    response = client.post(
        reverse("qr:report", args=[token]),
        {
            "category": category.pk,
            "description": "水泵漏水",
            "contact_name": "张伟",
            "contact_mobile": "13800000001",
            "photos": jpeg(),
        },
    )
    order = WorkOrder.objects.get()
    assert response.url == reverse("orders_resident:submitted", args=[order.pk])
    assert order.asset == pump_round["pump"] and order.category == category
    assert order.channel == Channel.RESIDENT_H5 and order.reporter == cast.users["resident_a"]
    assert order.common_area == pump_round["pump"].common_area and order.house is None
    assert order.events.get(type="submitted").photos.count() == 1


def test_a_resident_report_with_mistakes_is_a_form_error(cast, pump_round):
    client = cast.client("resident_a")
    other = Category.objects.get(company=cast.other_company, code="water_leak")
    url = reverse("qr:report", args=[pump_round["pump"].qr_token])
    for data in (
        {"description": "", "contact_name": "张伟", "contact_mobile": "13800000001"},
        {"category": other.pk, "description": "漏水", "contact_name": "张", "contact_mobile": "1"},
    ):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "This field is required." in text(response) or "Choose" in text(response)
    assert not WorkOrder.objects.exists()


def test_residents_of_other_communities_do_not_recognise_it(cast, pump_round):
    from django.test import Client

    token = pump_round["pump"].qr_token
    in_y = Client()
    in_y.force_login(make_resident(cast.company, cast.house_y, "赵敏", "13800000077").user)
    for client in (in_y, cast.client("other_resident")):
        page = not_recognised(client.get(landing(token)), token)
        assert "We do not recognise this code" in page and "1号生活水泵" not in page
    water = Category.objects.get(company=cast.company, code="water_leak")
    data = {"category": water.pk, "description": "x", "contact_name": "赵", "contact_mobile": ""}
    for client in (in_y, cast.client("other_resident")):
        assert client.post(reverse("qr:report", args=[token]), data).status_code == 404
    assert not WorkOrder.objects.exists()


def test_office_staff_cannot_post_a_resident_report(cast, pump_round):
    water = Category.objects.get(company=cast.company, code="water_leak")
    response = cast.client("dispatcher").post(
        reverse("qr:report", args=[pump_round["pump"].qr_token]),
        {"category": water.pk, "description": "x", "contact_name": "x", "contact_mobile": ""},
    )
    assert response.status_code == 404 and not WorkOrder.objects.exists()


def test_a_resident_reports_at_a_checkpoint_of_a_common_area(cast, frozen):
    area = cast.community_x.common_areas.first()
    point = Checkpoint.objects.create(
        company=cast.company, community=cast.community_x, name="花园巡更点", common_area=area
    )
    bare = Checkpoint.objects.create(company=cast.company, community=cast.community_x, name="屋顶")
    client = cast.client("resident_b")
    assert client.get(landing(bare.qr_token)).status_code == 404  # nowhere to send a repair
    category = Category.objects.get(company=cast.company, code="lights_sockets")
    client.post(
        reverse("qr:report", args=[point.qr_token]),
        {
            "category": category.pk,
            "description": "路灯不亮",
            "contact_name": "李娜",
            "contact_mobile": "13800000002",
        },
    )
    order = WorkOrder.objects.get()
    assert order.common_area == area and order.asset is None


def test_landing_reads_in_a_few_queries(cast, pump_round, django_assert_max_num_queries):
    client = cast.client("technician")
    url = landing(pump_round["pump"].qr_token)
    client.get(url)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200
