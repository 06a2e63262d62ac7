"""Equipment ledger, downtime, certificates and typed checklist answers (issue 4, parts
1–3): services and scoping."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wuye.facilities import services as fac
from wuye.facilities.models import (
    Asset,
    AssetCategory,
    Certificate,
    ChecklistItem,
    ChecklistTemplate,
    Downtime,
    ItemType,
    RoundKind,
    Vendor,
)

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code="water_pump", company=None):
    return AssetCategory.objects.get(company=company or cast.company, code=code)


def pump(cast, **fields):
    return fac.create_asset(
        actor=cast.actor("project_manager"),
        community=cast.community_x,
        category=category(cast),
        name=fields.pop("name", "1号生活水泵"),
        **fields,
    )


def test_new_companies_get_the_default_asset_categories(cast):
    names = list(AssetCategory.objects.filter(company=cast.company).values_list("name", flat=True))
    assert names[:4] == ["电梯", "供水泵", "配电", "消防"]
    assert AssetCategory.objects.filter(company=cast.other_company).count() == len(names)


def test_assets_get_the_next_code_of_their_category(cast, frozen):
    first, second = pump(cast), pump(cast, name="2号生活水泵")
    assert (first.code, second.code) == ("SB-0001", "SB-0002")
    lift = fac.create_asset(
        actor=cast.actor("project_manager"),
        community=cast.community_x,
        category=category(cast, "elevator"),
        name="1号客梯",
        brand="奥的斯",
        installed_on=datetime.date(2020, 5, 1),
        warranty_until=datetime.date(2025, 5, 1),
    )
    assert lift.code == "DT-0001" and lift.status == Asset.Status.RUNNING
    assert len(lift.qr_token) >= 16 and lift.qr_token != first.qr_token
    with pytest.raises(ValidationError) as exc:
        pump(cast, code="SB-0001")
    assert "__all__" in exc.value.message_dict or "code" in exc.value.message_dict


def test_ledger_input_is_checked_and_nothing_is_written(cast, frozen):
    manager = cast.actor("project_manager")
    with pytest.raises(ValidationError) as exc:
        pump(cast, installed_on=datetime.date(2024, 1, 1), warranty_until=datetime.date(2023, 1, 1))
    assert "The warranty cannot end before installation." in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        fac.create_asset(
            actor=manager,
            community=cast.community_x,
            category=category(cast, company=cast.other_company),
            name="x",
        )
    assert "category" in exc.value.message_dict
    foreign_vendor = Vendor.objects.create(company=cast.other_company, name="他山电梯")
    with pytest.raises(ValidationError) as exc:
        pump(cast, vendor=foreign_vendor)
    assert "vendor" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        pump(cast, building=cast.house_y.building)
    assert "building" in exc.value.message_dict
    with pytest.raises(ValidationError):
        pump(cast, name="  ")
    assert not Asset.objects.exists()


@pytest.mark.parametrize("who", ["dispatcher", "technician", "quality", "resident_a", "manager_y"])
def test_only_managers_of_the_community_register_assets(cast, frozen, who):
    with pytest.raises(PermissionDenied):
        fac.create_asset(
            actor=cast.actor(who), community=cast.community_x, category=category(cast), name="泵"
        )
    assert not Asset.objects.exists()


def test_who_sees_which_assets(cast, frozen):
    x_pump = pump(cast)
    y_pump = fac.create_asset(
        actor=cast.actor("manager_y"),
        community=cast.community_y,
        category=category(cast),
        name="Y泵",
    )
    seen = {name: set(Asset.objects.visible_to(cast.actor(name))) for name in cast.users}
    assert seen["company_admin"] == {x_pump, y_pump}
    assert seen["project_manager"] == seen["dispatcher"] == seen["technician"] == {x_pump}
    assert seen["technician_y"] == seen["manager_y"] == {y_pump}
    assert seen["quality"] == {x_pump, y_pump}  # company-wide viewer
    for nobody in ("resident_a", "resident_b", "other_resident", "other_admin", "finance"):
        assert seen[nobody] == set(), nobody


def test_status_changes_keep_downtime_intervals(cast, frozen):
    asset, manager = pump(cast), cast.actor("project_manager")
    with pytest.raises(ValidationError) as exc:
        fac.change_status(actor=manager, asset=asset, status=Asset.Status.REPAIRING)
    assert "reason" in exc.value.message_dict
    fac.change_status(actor=manager, asset=asset, status="repairing", reason="轴承异响")
    frozen.move_to(NOW + datetime.timedelta(hours=5), tick=False)
    fac.change_status(actor=manager, asset=asset, status="stopped", reason="等配件")
    frozen.move_to(NOW + datetime.timedelta(hours=30), tick=False)
    asset = fac.change_status(actor=manager, asset=asset, status="running")
    assert asset.status == Asset.Status.RUNNING
    intervals = list(
        Downtime.objects.filter(asset=asset).values_list("status", "started_at", "ended_at")
    )
    assert intervals == [
        ("repairing", NOW, NOW + datetime.timedelta(hours=5)),
        ("stopped", NOW + datetime.timedelta(hours=5), NOW + datetime.timedelta(hours=30)),
    ]
    with pytest.raises(ValidationError):
        fac.change_status(actor=manager, asset=asset, status="running")
    with pytest.raises(PermissionDenied):
        fac.change_status(actor=cast.actor("technician"), asset=asset, status="stopped", reason="x")


def test_a_scrapped_asset_is_final(cast, frozen):
    asset, manager = pump(cast), cast.actor("project_manager")
    fac.change_status(actor=manager, asset=asset, status="scrapped", reason="报废更换")
    with pytest.raises(ValidationError):
        fac.change_status(actor=manager, asset=asset, status="running")
    assert Downtime.objects.get(asset=asset).ended_at == NOW


def test_certificates_and_their_reminder_window(cast, frozen):
    manager, asset = cast.actor("project_manager"), pump(cast)
    soon = fac.add_certificate(
        actor=manager,
        asset=asset,
        kind=Certificate.Kind.WATER,
        expires_on=datetime.date(2026, 12, 20),
        remind_days=30,
    )
    later = fac.add_certificate(
        actor=manager, asset=asset, kind="special", expires_on=datetime.date(2027, 6, 1)
    )
    with pytest.raises(ValidationError):
        fac.add_certificate(
            actor=manager,
            asset=asset,
            kind="fire",
            issued_on=datetime.date(2026, 1, 1),
            expires_on=datetime.date(2025, 1, 1),
        )
    due = set(fac.certificates_to_remind(today=NOW.date()))
    assert soon in due and later not in due
    Certificate.objects.filter(pk=soon.pk).update(reminded_on=NOW.date())
    assert soon not in set(fac.certificates_to_remind(today=NOW.date()))


# --- checklists ------------------------------------------------------------------------
def item(cast, **fields):
    template, _ = ChecklistTemplate.objects.get_or_create(
        company=cast.company, name="水泵房巡检", defaults={"kind": RoundKind.INSPECTION}
    )
    return ChecklistItem(template=template, label=fields.pop("label", "出水压力"), **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": ItemType.SINGLE, "choices": ["正常"]}, "choices"),
        ({"type": ItemType.SINGLE, "choices": ["a", "a"]}, "choices"),
        (
            {"type": ItemType.SINGLE, "choices": ["a", "b"], "abnormal_choices": ["c"]},
            "abnormal_choices",
        ),
        ({"type": ItemType.TEXT, "choices": ["a", "b"]}, "choices"),
        ({"type": ItemType.TEXT, "unit": "MPa"}, "unit"),
        ({"type": ItemType.NUMBER, "unit": "MPa"}, "min_value"),
        (
            {"type": ItemType.NUMBER, "min_value": Decimal("2"), "max_value": Decimal("1")},
            "__all__",
        ),
        ({"type": ItemType.OK_ABNORMAL, "creates_order": True}, "__all__"),
    ],
)
def test_checklist_items_are_validated(cast, fields, field):
    with pytest.raises(ValidationError) as exc:
        item(cast, **fields).full_clean()
    assert field in exc.value.message_dict


PRESSURE = {
    "type": ItemType.NUMBER,
    "unit": "MPa",
    "min_value": Decimal("0.3"),
    "max_value": Decimal("0.6"),
}


@pytest.mark.parametrize(
    ("fields", "raw", "expected"),
    [
        (PRESSURE, "0.45", (Decimal("0.450"), False)),
        (PRESSURE, "0.45 MPa", (Decimal("0.450"), False)),
        (PRESSURE, "0.2", (Decimal("0.200"), True)),
        (PRESSURE, "0.61mpa", (Decimal("0.610"), True)),
        ({"type": ItemType.METER, "unit": "kWh"}, "12345.6", (Decimal("12345.600"), False)),
        ({"type": ItemType.OK_ABNORMAL}, "异常", (False, True)),
        ({"type": ItemType.OK_ABNORMAL}, True, (True, False)),
        (
            {
                "type": ItemType.SINGLE,
                "choices": ["清洁", "一般", "脏乱"],
                "abnormal_choices": ["脏乱"],
            },
            "脏乱",
            ("脏乱", True),
        ),
        (
            {
                "type": ItemType.MULTIPLE,
                "choices": ["漏水", "异响", "无"],
                "abnormal_choices": ["漏水", "异响"],
            },
            ["无"],
            (["无"], False),
        ),
        ({"type": ItemType.TEXT, "required": False}, "", (None, False)),
    ],
)
def test_answers_are_typed_and_judged(cast, fields, raw, expected):
    assert fac.parse_answer(item(cast, **fields), raw) == expected


@pytest.mark.parametrize(
    ("fields", "raw", "message"),
    [
        (PRESSURE, "", "Answer “出水压力”."),
        (PRESSURE, "about half", "Enter a number, e.g. 0.45."),
        (PRESSURE, "45 kPa", "Enter the value in MPa, not kPa."),
        (PRESSURE, "99999999999", "This number is far too large; check it."),
        ({"type": ItemType.METER}, "12 kWh", "Enter the number without a unit."),
        ({"type": ItemType.OK_ABNORMAL}, "maybe", "Answer normal or abnormal."),
        (
            {"type": ItemType.SINGLE, "choices": ["a", "b"]},
            "c",
            "Choose one of the listed answers.",
        ),
        (
            {"type": ItemType.MULTIPLE, "choices": ["a", "b"]},
            ["a", "z"],
            "Choose among the listed answers.",
        ),
        ({"type": ItemType.TEXT}, "x" * 501, "Keep it under 500 characters."),
    ],
)
def test_bad_answers_name_the_mistake(cast, fields, raw, message):
    with pytest.raises(ValidationError) as exc:
        fac.parse_answer(item(cast, **fields), raw, field="items[3]")
    assert exc.value.message_dict == {"items[3]": [message]}
