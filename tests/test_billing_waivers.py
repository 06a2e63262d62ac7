"""Discounts and waivers (减免): rules, proposals refused without writing anything (month
bounds, too short, an occupied house for a vacant-house rule, overlap, not enough
prepaid, self-approval), approval crediting issued bills exactly (a paid bill's share
back to 预存, proration by month and day), later runs discounting with the detail that
explains it, a rerun writing nothing new, scoping, the console pages and the API."""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from api_helpers import bearer_client, get, ids, post, results
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.test_billing_payments import assert_ledgers_add_up
from wuye.billing import money, payments, runs, selectors, services, waivers
from wuye.billing.models import (
    Adjustment,
    Bill,
    BillRun,
    Charging,
    DiscountRule,
    FeeItem,
    PrepaidAccount,
    PrepaidEntry,
    Waiver,
)
from wuye.estates.models import House

D = Decimal
JAN, FEB, MAR, APR, MAY, JUN = (datetime.date(2026, m, 1) for m in range(1, 7))
AUG = datetime.date(2026, 8, 1)
KEY = "Idempotency-Key"


def end(month: datetime.date) -> datetime.date:
    return money.month_end(month)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def admin(cast):
    return cast.actor("company_admin")


@pytest.fixture
def fee(cast, finance):
    """物业费 2.35/m²/month from January for houses A and B of X (89.50 m² each): a full
    month is 210.325 → 210.33; half of it 105.1625 → 105.16."""
    return services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.AREA,
        unit_price=D("2.35"),
        effective_from=JAN,
    )


@pytest.fixture
def vacant(finance, cast, fee):
    return waivers.create_rule(
        actor=finance,
        community=cast.community_x,
        fee_item=fee,
        kind=DiscountRule.Kind.VACANT,
        name="空置房物业费减半",
        rate="0.5",
        min_months=3,
    )


@pytest.fixture
def prepay(finance, cast, fee):
    return waivers.create_rule(
        actor=finance,
        community=cast.community_x,
        fee_item=fee,
        kind=DiscountRule.Kind.PREPAY,
        name="预交12个月九五折",
        rate="0.05",
        min_months=12,
    )


@pytest.fixture
def house_a(cast):
    """House A, recorded as vacant."""
    House.objects.filter(pk=cast.house_a.pk).update(occupancy=House.Occupancy.VACANT)
    cast.house_a.refresh_from_db()
    return cast.house_a


def issue(actor, community, start, kind="month") -> BillRun:
    run = runs.preview_run(actor=actor, period_kind=kind, period_start=start, community=community)
    return runs.issue_run(actor=actor, run=run)


def propose(actor, house, rule, first, last, reason="业主申请空置"):
    return waivers.propose_waiver(
        actor=actor, house=house, rule=rule, start_month=first, end_month=end(last), reason=reason
    )


def bill_of(house, month, fee):
    return Bill.objects.get(house=house, fee_item=fee, period_start=month)


def deposit(house, amount, fee_item=None):
    """Money put on a house's prepaid account (its general one, or a fee item's)."""
    account, _ = PrepaidAccount.objects.get_or_create(
        house=house,
        fee_item=fee_item,
        defaults={"company_id": house.company_id, "community_id": house.community_id},
    )
    PrepaidEntry.objects.create(
        account=account, kind="deposit", amount=D(amount), at=datetime.datetime.now(datetime.UTC)
    )
    account.balance += D(amount)
    account.save()


# --- rules ----------------------------------------------------------------------------


def test_rules_are_checked_and_only_managers_write_them(cast, finance, fee):
    water = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="water",
        name="水费",
        kind=FeeItem.Kind.METERED,
        unit_price=D("3.20"),
        effective_from=JAN,
    )
    y_fee = services.create_fee_item(
        actor=finance,
        community=cast.community_y,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.AREA,
        unit_price=D("2.00"),
        effective_from=JAN,
    )
    base = {
        "community": cast.community_x,
        "fee_item": fee,
        "kind": "vacant",
        "name": "空置",
        "rate": "0.5",
    }
    for changes, field in (
        ({"fee_item": y_fee}, "fee_item"),
        ({"fee_item": water}, "fee_item"),
        ({"rate": "0"}, "rate"),
        ({"rate": "1.5"}, "rate"),
        ({"rate": 0.5}, "rate"),  # a float is not money
        ({"rate": "0.12345"}, "rate"),
        ({"name": "  "}, "name"),
    ):
        with pytest.raises(ValidationError) as caught:
            waivers.create_rule(actor=finance, **(base | changes))
        assert field in caught.value.message_dict, changes
    with pytest.raises(PermissionDenied):
        waivers.create_rule(actor=cast.actor("project_manager"), **base)
    with pytest.raises(PermissionDenied):
        waivers.create_rule(actor=cast.actor("other_admin"), **base)
    assert not DiscountRule.objects.exists()

    rule = waivers.create_rule(actor=finance, **(base | {"rate": "1"}))
    assert rule.rate == D("1") and rule.min_months == 1
    rule = waivers.update_rule(actor=finance, rule=rule, rate="0.3", min_months=2)
    assert (rule.rate, rule.min_months) == (D("0.3"), 2)


def test_a_deactivated_rule_takes_no_new_waivers_and_its_fee_item_stays(
    cast, finance, admin, fee, vacant, house_a
):
    propose(finance, house_a, vacant, FEB, APR)
    garbage = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="garbage",
        name="垃圾清运费",
        kind=FeeItem.Kind.FIXED,
        unit_price=D("15"),
        effective_from=JAN,
    )
    with pytest.raises(ValidationError, match="stay"):
        waivers.update_rule(actor=finance, rule=vacant, fee_item=garbage)
    waivers.deactivate_rule(actor=finance, rule=vacant)
    with pytest.raises(ValidationError, match="no longer in use"):
        propose(finance, house_a, vacant, MAY, JUN.replace(month=7))
    assert Waiver.objects.count() == 1


# --- refusals write nothing -----------------------------------------------------------


def _refused(cast, finance, house_a, vacant, prepay):
    """(arguments, field with the message, part of the message) of refused proposals."""
    return [
        (
            dict(
                house=house_a,
                rule=vacant,
                start_month=datetime.date(2026, 3, 2),
                end_month=end(MAY),
            ),
            "start_month",
            "first day of a month",
        ),
        (
            dict(house=house_a, rule=vacant, start_month=MAR, end_month=datetime.date(2026, 5, 30)),
            "end_month",
            "last day of a month",
        ),
        (
            dict(house=house_a, rule=vacant, start_month=MAR, end_month=end(APR)),
            "end_month",
            "needs at least 3 months; 2026-03 to 2026-04 is 2",
        ),
        (
            dict(house=cast.house_b, rule=vacant, start_month=MAR, end_month=end(MAY)),
            "house",
            "recorded as “Owner-occupied”",
        ),
        (
            dict(house=house_a, rule=vacant, start_month=APR, end_month=end(JUN)),
            "start_month",
            "already covers 2026-03 – 2026-05",
        ),
        (
            dict(
                house=cast.house_b,
                rule=prepay,
                start_month=MAY,
                end_month=datetime.date(2027, 4, 30),
            ),
            "rule",
            "¥2397.72 short",
        ),
        (
            dict(house=cast.house_y, rule=vacant, start_month=MAR, end_month=end(MAY)),
            "house",
            "not in this rule's community",
        ),
        (
            dict(
                house=house_a,
                rule=vacant,
                start_month=datetime.date(2025, 1, 1),
                end_month=datetime.date(2025, 3, 31),
            ),
            "house",
            "not charged for 物业费",
        ),
    ]


def test_refused_proposals_write_nothing(cast, finance, house_a, vacant, prepay):
    pending = propose(finance, house_a, vacant, MAR, MAY)
    before = (Waiver.objects.count(), Adjustment.objects.count(), PrepaidEntry.objects.count())
    for arguments, field, message in _refused(cast, finance, house_a, vacant, prepay):
        with pytest.raises(ValidationError) as caught:
            waivers.propose_waiver(actor=finance, reason="申请", **arguments)
        assert field in caught.value.message_dict, arguments
        assert message in " ".join(caught.value.message_dict[field]), caught.value
    with pytest.raises(ValidationError, match="Give a reason"):
        waivers.propose_waiver(
            actor=finance,
            house=house_a,
            rule=vacant,
            start_month=JUN,
            end_month=end(AUG),
            reason=" ",
        )
    with pytest.raises(PermissionDenied):  # billing.view only
        propose(cast.actor("project_manager"), house_a, vacant, JUN, AUG)
    assert (
        Waiver.objects.count(),
        Adjustment.objects.count(),
        PrepaidEntry.objects.count(),
    ) == before
    assert Waiver.objects.get() == pending
    # A rejected waiver no longer blocks its months.
    waivers.decide_waiver(
        actor=cast.actor("company_admin"), waiver=pending, approve=False, note="有人住"
    )
    assert propose(finance, house_a, vacant, MAR, MAY).status == Waiver.Status.PENDING


def test_the_prepaid_check_explains_itself_and_counts_the_fee_items_own_account(
    cast, finance, admin, fee, prepay
):
    house = cast.house_b
    arguments = dict(
        actor=finance,
        house=house,
        rule=prepay,
        start_month=MAY,
        end_month=datetime.date(2027, 4, 30),
        reason="预交一年",
    )
    with pytest.raises(ValidationError) as caught:
        waivers.propose_waiver(**arguments)
    text = " ".join(caught.value.message_dict["rule"])
    # 12 × 210.33 = 2523.96 before; 12 × (210.33 − 10.52) = 2397.72 after 5 % off.
    for part in ("12 months of 物业费", "¥2523.96", "¥2397.72 after 5% off", "is ¥0.00"):
        assert part in text, text
    deposit(house, "1000.00", fee_item=fee)  # earmarked for 物业费
    deposit(house, "1397.71")  # general
    with pytest.raises(ValidationError, match=r"¥0\.01 short"):
        waivers.propose_waiver(**arguments)
    payments.collect(actor=finance, house=house, amount="0.01", method="cash", bill_ids=[])
    waiver = waivers.propose_waiver(**arguments)
    waivers.decide_waiver(actor=admin, waiver=waiver, approve=True)
    assert not Adjustment.objects.exists()  # nothing issued for those months yet

    run = issue(finance, cast.community_x, MAY)
    bill = bill_of(house, MAY, fee)
    assert bill.amount == D("199.81")
    assert bill.detail["before_discount"] == "210.33"
    assert bill.detail["discounts"][0]["amount"] == "10.52"
    assert bill.detail["discounts"][0]["exact"] == "10.51625"
    # 预存 pays the discounted bill as the run issues it.
    assert (bill.status, bill.paid_amount) == (Bill.Status.PAID, D("199.81"))
    assert bill_of(cast.house_a, MAY, fee).amount == D("210.33")
    assert run.amount_issued == D("199.81") + D("210.33")
    assert_ledgers_add_up()


# --- deciding -------------------------------------------------------------------------


def test_the_proposer_cannot_decide_and_a_rejection_needs_a_note(
    cast, finance, admin, house_a, vacant
):
    waiver = propose(finance, house_a, vacant, FEB, APR)
    with pytest.raises(ValidationError, match="Someone other than the proposer must decide"):
        waivers.decide_waiver(actor=finance, waiver=waiver, approve=True)
    with pytest.raises(PermissionDenied):
        waivers.decide_waiver(actor=cast.actor("project_manager"), waiver=waiver, approve=True)
    with pytest.raises(PermissionDenied):
        waivers.decide_waiver(actor=cast.actor("other_admin"), waiver=waiver, approve=True)
    with pytest.raises(ValidationError, match="Say why"):
        waivers.decide_waiver(actor=admin, waiver=waiver, approve=False, note=" ")
    waiver.refresh_from_db()
    assert waiver.status == Waiver.Status.PENDING and waiver.decided_by is None
    waivers.decide_waiver(actor=admin, waiver=waiver, approve=False, note="有住户入住")
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decided_by, waiver.decision_note) == (
        Waiver.Status.REJECTED,
        admin.user,
        "有住户入住",
    )
    with pytest.raises(ValidationError, match="already been decided"):
        waivers.decide_waiver(actor=admin, waiver=waiver, approve=True)
    assert not Adjustment.objects.exists()


def test_approval_credits_issued_bills_and_later_runs_discount(
    cast, finance, admin, fee, house_a, vacant
):
    issue(finance, cast.community_x, FEB)
    issue(finance, cast.community_x, MAR)
    feb, mar = bill_of(house_a, FEB, fee), bill_of(house_a, MAR, fee)
    assert feb.amount == mar.amount == D("210.33")
    paid = payments.collect(
        actor=finance, house=house_a, amount="210.33", method="cash", bill_ids=[feb.pk]
    )
    waiver = propose(finance, house_a, vacant, FEB, APR)
    waivers.decide_waiver(actor=admin, waiver=waiver, approve=True, note="核实空置")

    feb.refresh_from_db()
    mar.refresh_from_db()
    credits = list(Adjustment.objects.order_by("bill_id"))
    assert [(c.bill_id, c.amount, c.status) for c in credits] == [
        (feb.pk, D("105.16"), Adjustment.Status.APPROVED),
        (mar.pk, D("105.16"), Adjustment.Status.APPROVED),
    ]
    assert {(c.created_by, c.approved_by) for c in credits} == {(finance.user, admin.user)}
    assert credits[0].reason.startswith(f"Waiver #{waiver.pk}: 空置房物业费减半, 50% off 2026-02")
    # The paid February bill keeps 105.17; the 105.16 paid for the waived half is the
    # resident's money on the prepaid balance, traced to the payment and the bill.
    assert (feb.payable, feb.paid_amount, feb.status) == (D("105.17"), D("105.17"), "paid")
    returned = PrepaidEntry.objects.get(bill=feb, kind="deposit")
    assert (returned.amount, returned.payment, returned.account.fee_item) == (
        D("105.16"),
        paid,
        None,
    )
    assert (mar.payable, mar.balance, mar.status) == (D("105.17"), D("105.17"), "open")
    assert bill_of(cast.house_b, MAR, fee).adjusted_amount == 0
    assert_ledgers_add_up()

    # April: the run applies the discount itself, and the 预存 pays what it can.
    preview = runs.preview_run(
        actor=finance, period_kind="month", period_start=APR, community=cast.community_x
    )
    assert preview.amount_planned == D("105.17") + D("210.33")
    run = runs.issue_run(actor=finance, run=preview)
    apr = bill_of(house_a, APR, fee)
    assert apr.amount == D("105.17") and run.amount_issued == preview.amount_planned
    assert apr.detail["before_discount"] == "210.33"
    assert apr.detail["discounts"] == [
        {
            "waiver": waiver.pk,
            "rule": "空置房物业费减半",
            "kind": "vacant",
            "rate": "0.5000",
            "months": ["2026-04"],
            "exact": "105.1625",
            "amount": "105.16",
        }
    ]
    # The 105.16 back on 预存 pays the oldest unpaid bill first: March's 105.17.
    mar.refresh_from_db()
    assert (mar.paid_amount, mar.balance, apr.paid_amount) == (D("105.16"), D("0.01"), 0)
    how = selectors.explain(apr)
    assert how["discounts"][0]["percent"] == "50%" and how["before_discount"] == "210.33"
    assert bill_of(cast.house_b, APR, fee).amount == D("210.33")

    # Issued again from scratch (a crash before the end): nothing new is written.
    written = {b.pk: (b.amount, b.paid_amount) for b in Bill.objects.all()}
    counts = (Adjustment.objects.count(), PrepaidEntry.objects.count())
    BillRun.objects.filter(pk=run.pk).update(state=BillRun.State.FAILED, checkpoint={})
    run.refresh_from_db()
    again = runs.issue_run(actor=finance, run=run)
    assert {b.pk: (b.amount, b.paid_amount) for b in Bill.objects.all()} == written
    assert (Adjustment.objects.count(), PrepaidEntry.objects.count()) == counts
    assert again.amount_issued == preview.amount_planned

    issue(finance, cast.community_x, MAY)  # the waiver ended in April
    assert bill_of(house_a, MAY, fee).amount == D("210.33")
    assert "discounts" not in bill_of(house_a, MAY, fee).detail
    assert_ledgers_add_up()


def test_a_refund_of_a_payment_finds_the_money_a_waiver_gave_back(
    cast, finance, admin, fee, house_a, vacant
):
    issue(finance, cast.community_x, FEB)
    feb = bill_of(house_a, FEB, fee)
    paid = payments.collect(
        actor=finance, house=house_a, amount="210.33", method="cash", bill_ids=[feb.pk]
    )
    waivers.decide_waiver(
        actor=admin, waiver=propose(finance, house_a, vacant, FEB, APR), approve=True
    )
    refund = payments.request_refund(actor=finance, payment=paid, amount="210.33", reason="退费")
    payments.approve_refund(actor=admin, refund=refund)
    feb.refresh_from_db()
    assert (feb.paid_amount, feb.balance, feb.status) == (D("0.00"), D("105.17"), "open")
    assert PrepaidAccount.objects.get(house=house_a, fee_item=None).balance == 0
    assert_ledgers_add_up()


def test_proration_by_month_and_day_adds_up_exactly(cast, finance, admin):
    """A quarterly 30.00/month fee charged from 10 January: Q1 = 30 × 22/31 + 30 + 30."""
    item = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="garbage",
        name="垃圾清运费",
        kind=FeeItem.Kind.FIXED,
        cycle=FeeItem.Cycle.QUARTER,
        unit_price=D("30"),
        effective_from=JAN,
    )
    Charging.objects.filter(fee_item=item).update(start=datetime.date(2026, 1, 10))
    rule = waivers.create_rule(
        actor=finance,
        community=cast.community_x,
        fee_item=item,
        kind="vacant",
        name="空置减半",
        rate="0.5",
        min_months=2,
    )
    House.objects.filter(pk__in=[cast.house_a.pk, cast.house_b.pk]).update(occupancy="vacant")
    issue(finance, cast.community_x, JAN, kind="quarter")
    q1_a, q1_b = bill_of(cast.house_a, JAN, item), bill_of(cast.house_b, JAN, item)
    january = Fraction(30) * Fraction(22, 31)
    assert q1_a.amount == money.round_money(january + 60) == D("81.29")

    a = propose(finance, cast.house_a, rule, JAN, FEB)  # January's 22 days and February
    b = propose(finance, cast.house_b, rule, MAR, APR)  # March in Q1, April in Q2
    for waiver in (a, b):
        waivers.decide_waiver(actor=admin, waiver=waiver, approve=True)
    q1_a.refresh_from_db()
    q1_b.refresh_from_db()
    assert -q1_a.adjusted_amount == money.round_money((january + 30) / 2) == D("25.65")
    assert -q1_b.adjusted_amount == D("15.00")
    assert q1_a.balance == D("55.64") and q1_b.balance == D("66.29")

    issue(finance, cast.community_x, APR, kind="quarter")
    q2_a, q2_b = bill_of(cast.house_a, APR, item), bill_of(cast.house_b, APR, item)
    assert q2_a.amount == D("90.00")
    assert (q2_b.amount, q2_b.detail["discounts"][0]["months"]) == (D("75.00"), ["2026-04"])
    # What house B's waiver took off over two quarters is half of March and April.
    assert -q1_b.adjusted_amount + D(q2_b.detail["discounts"][0]["amount"]) == D("30.00")


def test_a_month_waived_in_full_is_still_billed_at_zero_to_explain_it(
    cast, finance, admin, fee, house_a
):
    rule = waivers.create_rule(
        actor=finance,
        community=cast.community_x,
        fee_item=fee,
        kind="vacant",
        name="全免",
        rate="1",
    )
    waivers.decide_waiver(
        actor=admin, waiver=propose(finance, house_a, rule, MAR, MAR), approve=True
    )
    issue(finance, cast.community_x, MAR)
    bill = bill_of(house_a, MAR, fee)
    assert (bill.amount, bill.status, bill.balance) == (D("0.00"), Bill.Status.PAID, D("0.00"))
    assert bill.detail["discounts"][0]["amount"] == "210.33"


def test_a_run_loads_the_approved_waivers_once(cast, finance, admin, fee, vacant):
    House.objects.filter(pk__in=[cast.house_a.pk, cast.house_b.pk]).update(occupancy="vacant")
    for house in (cast.house_a, cast.house_b):
        waivers.decide_waiver(
            actor=admin, waiver=propose(finance, house, vacant, MAR, MAY), approve=True
        )
    with CaptureQueriesContext(connection) as queries:
        run = runs.preview_run(
            actor=finance, period_kind="month", period_start=MAR, community=cast.community_x
        )
    assert sum("billing_waiver" in q["sql"] for q in queries.captured_queries) == 1
    assert run.amount_planned == 2 * D("105.17")


# --- scoping, console, API ------------------------------------------------------------


def test_who_sees_which_waivers(cast, finance, house_a, vacant):
    waiver = propose(finance, house_a, vacant, FEB, APR)
    for name, sees in (
        ("finance", True),
        ("project_manager", True),
        ("resident_a", True),  # their own house
        ("resident_b", False),
        ("manager_y", False),
        ("other_admin", False),
        ("dispatcher", False),
    ):
        assert Waiver.objects.visible_to(cast.actor(name)).filter(pk=waiver.pk).exists() == sees, (
            name
        )
    assert not DiscountRule.objects.visible_to(cast.actor("resident_a")).exists()


def test_console_lists_filters_and_decides(cast, finance, house_a, vacant, prepay):
    waiver = propose(finance, house_a, vacant, FEB, APR)
    url = reverse("billing:waiver_list")
    page = cast.client("finance").get(url).content.decode()
    assert "空置房物业费减半" in page and "0101" in page and "Someone else must decide." in page
    assert 'class="stat-value"><a href="/console/billing/waivers/?status=pending">1</a>' in page
    for query, shown in (
        ({"status": "approved"}, False),
        ({"status": "pending"}, True),
        ({"kind": "prepay"}, False),
        ({"kind": "vacant", "number": "01"}, True),
        ({"number": "02"}, False),
        ({"community": cast.community_x.pk}, True),
    ):
        text = cast.client("finance").get(url, query).content.decode()
        assert ("空置房物业费减半</" in text or "空置房物业费减半<br>" in text) == shown, query

    decide = reverse("billing:waiver_decide", args=[waiver.pk])
    response = cast.client("finance").post(decide, {"decision": "approve"})
    assert response.status_code == 400
    assert "Someone other than the proposer must decide." in response.content.decode()
    assert cast.client("other_admin").post(decide, {"decision": "approve"}).status_code == 404
    assert cast.client("project_manager").post(decide, {"decision": "approve"}).status_code == 403
    response = cast.client("company_admin").post(decide, {"decision": "reject"})
    assert "Say why the waiver is rejected." in response.content.decode()
    waiver.refresh_from_db()
    assert waiver.status == Waiver.Status.PENDING
    admin = cast.client("company_admin")
    assert admin.get(url).content.decode().count('name="decision" value="approve"') == 1
    response = admin.post(decide + "?status=pending", {"decision": "approve", "note": "核实"})
    assert response.status_code == 302 and response.url.endswith("?status=pending")
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decision_note) == (Waiver.Status.APPROVED, "核实")
    assert "空置房物业费减半" not in cast.client("other_admin").get(url).content.decode()
    assert "空置房物业费减半" not in cast.client("manager_y").get(url).content.decode()


def test_console_proposal_shows_errors_and_writes_nothing(cast, finance, house_a, vacant):
    url = reverse("billing:waiver_propose")
    form = {
        "community": cast.community_x.pk,
        "building": cast.building_x1.pk,
        "unit": cast.unit_x1.pk,
        "number": "0101",
        "rule": vacant.pk,
        "start_month": "2026-02",
        "end_month": "2026-03",
        "reason": "业主申请",
    }
    client = cast.client("finance")
    assert client.get(url, {"community": cast.community_x.pk}).status_code == 200
    response = client.post(url, form)
    assert response.status_code == 200
    assert "needs at least 3 months; 2026-02 to 2026-03 is 2." in response.content.decode()
    response = client.post(url, form | {"number": "0102", "end_month": "2026-04"})
    assert "recorded as “Owner-occupied”" in response.content.decode()
    assert not Waiver.objects.exists()
    response = client.post(url, form | {"end_month": "2026-04"})
    assert response.status_code == 302
    waiver = Waiver.objects.get()
    assert (waiver.start, waiver.end, waiver.rate) == (FEB, end(APR), D("0.5000"))
    assert cast.client("project_manager").post(url, form).status_code == 403


def test_console_rules_and_the_bill_page(cast, finance, admin, fee, house_a, vacant):
    client = cast.client("finance")
    response = client.post(
        reverse("billing:rule_create"),
        {
            "community": cast.community_x.pk,
            "fee_item": fee.pk,
            "kind": "prepay",
            "name": "预交12个月九五折",
            "rate": "0.05",
            "min_months": "12",
        },
    )
    assert response.status_code == 302
    rule = DiscountRule.objects.get(kind="prepay")
    page = client.get(reverse("billing:rule_list")).content.decode()
    assert "预交12个月九五折" in page and "5%" in page and "50%" in page
    response = client.post(
        reverse("billing:rule_edit", args=[rule.pk]),
        {
            "fee_item": fee.pk,
            "kind": "prepay",
            "name": "预交九五折",
            "rate": "2",
            "min_months": "12",
        },
    )
    assert response.status_code == 200 and "at most 1" in response.content.decode()
    response = client.post(
        reverse("billing:rule_edit", args=[rule.pk]),
        {
            "fee_item": fee.pk,
            "kind": "prepay",
            "name": "预交九五折",
            "rate": "0.06",
            "min_months": "12",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.rate, rule.is_active) == ("预交九五折", D("0.06"), False)
    assert (
        cast.client("other_admin").get(reverse("billing:rule_edit", args=[rule.pk])).status_code
        == 404
    )

    waivers.decide_waiver(
        actor=admin, waiver=propose(finance, house_a, vacant, APR, JUN), approve=True
    )
    issue(finance, cast.community_x, APR)
    bill = bill_of(house_a, APR, fee)
    page = client.get(reverse("billing:bill_detail", args=[bill.pk])).content.decode()
    for part in (
        "Rounded to the fen",
        "¥210.33",
        "空置房物业费减半, 50% off 2026-04",
        "−¥105.16",
        "Billed after the discount",
        "¥105.17",
        "Waivers for these months",
    ):
        assert part in page, part
    h5 = cast.client("resident_a").get(reverse("billing_resident:bill_detail", args=[bill.pk]))
    assert "空置房物业费减半: 50% off 2026-04" in h5.content.decode()


def test_api_lists_proposes_and_decides(cast, finance, house_a, vacant):
    client = bearer_client(cast.users["finance"])
    assert ids(get(client, "/billing/discount-rules")) == {vacant.pk}
    body = {
        "house_id": house_a.pk,
        "rule_id": vacant.pk,
        "start_month": "2026-02-01",
        "end_month": "2026-04-30",
        "reason": "业主申请",
    }
    first = post(client, "/billing/waivers", body, **{KEY: "w-1"})
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "pending" and first.json()["kind"] == "vacant"
    again = post(client, "/billing/waivers", body, **{KEY: "w-1"})
    assert again.json()["id"] == first.json()["id"] and Waiver.objects.count() == 1
    waiver_id = first.json()["id"]

    for changes, field in (
        ({"start_month": "2026-06-02", "end_month": "2026-08-31"}, "start_month"),
        (
            {"house_id": cast.house_b.pk, "start_month": "2026-06-01", "end_month": "2026-08-31"},
            "house_id",
        ),
        ({"house_id": cast.other_house.pk}, "house_id"),
        ({"start_month": "2026-03-01", "end_month": "2026-05-31"}, "start_month"),  # overlap
    ):
        response = post(client, "/billing/waivers", body | changes)
        assert response.status_code == 400, changes
        assert field in response.json()["detail"], response.json()
    assert Waiver.objects.count() == 1

    decide = f"/billing/waivers/{waiver_id}/decision"
    response = post(client, decide, {"approve": True}, **{KEY: "d-0"})
    assert response.status_code == 400
    assert "Someone other than the proposer" in str(response.json()["detail"])
    assert (
        post(bearer_client(cast.users["other_admin"]), decide, {"approve": True}).status_code == 404
    )
    assert (
        post(bearer_client(cast.users["project_manager"]), decide, {"approve": True}).status_code
        == 403
    )
    admin = bearer_client(cast.users["company_admin"])
    response = post(admin, decide, {"approve": True, "note": "核实"}, **{KEY: "d-1"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert response.json()["decided_by_name"] == cast.users["company_admin"].display_name
    assert post(admin, decide, {"approve": True, "note": "核实"}, **{KEY: "d-1"}).status_code == 200
    assert post(admin, decide, {"approve": False, "note": "x"}).status_code == 400

    assert ids(get(client, "/billing/waivers", {"status": "approved"})) == {waiver_id}
    assert ids(get(client, "/billing/waivers", {"kind": "prepay"})) == set()
    assert [
        w["id"] for w in results(get(bearer_client(cast.users["resident_a"]), "/billing/waivers"))
    ] == [waiver_id]
    assert ids(get(bearer_client(cast.users["resident_b"]), "/billing/waivers")) == set()
    assert ids(get(bearer_client(cast.users["other_admin"]), "/billing/waivers")) == set()
