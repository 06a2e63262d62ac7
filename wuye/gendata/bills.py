"""Fees, bills and payments of the generated houses.

Each community charges two fee items from the first billed month: 物业费 by built-up
area (1.50–3.80 yuan per m² a month, per community) and a fixed 垃圾清运费 (10, 12 or
15 yuan a month), with their first price (``FeeRate``) and a charging row (``Charging``)
per house, as ``billing.services.create_fee_item`` sets them up. Every month has an
issued bill run per community and one bill per house and fee item — amount and
``detail`` as ``billing.runs`` computes them (area × price, rounded half up to the cent
once; the company's default policy), due on the 16th.

About 85 % of the house-months are paid: chronic non-payers (5 % of houses) never pay,
vacant houses pay 60 % of months, the others 95 %; a house pays both bills of a month
at once, from the 2nd to about six weeks after the month starts (the later ones
overdue), so the last month is mostly still open. A payment has its receipt number
(``SJ-<COMPANY>-<YYYYMM>-<nnnnnn>``, gapless per company and month in order of receipt,
with the ``ReceiptCounter`` rows the next payment continues from) and one allocation
per bill; a paid bill's ``paid_amount`` is its allocations' sum. Unpaid bills stay open
(arrears). No prepaid balances, adjustments, late fees or meters.

Ids are computed from the house's index and the month (``bill = base + (house × months
+ month) × 2 + item``), so bills, payments and allocations find each other without a
lookup; unpaid house-months leave gaps in the payment ids.
"""

from wuye.billing.models import (
    Allocation,
    Bill,
    BillRun,
    Charging,
    FeeItem,
    FeeRate,
    Payment,
    ReceiptCounter,
)
from wuye.gendata.sql import (
    TZ,
    Timer,
    batches,
    indexes_dropped,
    stage_communities,
    zero_padded,
)

BATCH = 100_000  # houses per statement (× months × 2 bills)
S_PRICE, S_FIXED, S_CHRONIC, S_PAY, S_PAY_DAY, S_PAY_HOUR, S_METHOD = 60, 61, 62, 63, 64, 65, 66
DUE_DAYS = 15
ITEMS = (  # (code, name, kind): item 0 by area, item 1 fixed
    ("property", "物业费", FeeItem.Kind.AREA),
    ("garbage", "垃圾清运费", FeeItem.Kind.FIXED),
)


def stage(run) -> int:
    """``gen_house`` (every generated house with its index from 0, area, occupancy and
    resident's name) and ``gen_month`` (the billed months from 0)."""
    run.execute(
        """
        CREATE TEMP TABLE gen_house AS
        SELECT row_number() OVER (ORDER BY h.id) - 1 AS idx, h.id AS house_id, h.community_id,
               h.company_id, h.built_area, h.occupancy, coalesce(r.name, '') AS payer
        FROM estates_house h LEFT JOIN gen_res r ON r.house_id = h.id
        WHERE h.company_id IN (SELECT id FROM gen_company)
        """
    )
    run.execute("CREATE UNIQUE INDEX ON gen_house (idx)")
    run.execute("ANALYZE gen_house")
    run.execute("CREATE TEMP TABLE gen_month (m int, period_start date, period_end date, days int)")
    for m, first in enumerate(run.months()):
        run.execute(
            "INSERT INTO gen_month VALUES (%s, %s, "
            "(%s::date + interval '1 month' - interval '1 day')::date, "
            "extract(day FROM %s::date + interval '1 month' - interval '1 day'))",
            [m, first, first, first],
        )
    stage_communities(run)
    return run.value("SELECT count(*) FROM gen_house")


def create_fee_items(run) -> None:
    first_month = run.months()[0]
    items = run.reserve_ids(FeeItem._meta.db_table, 2 * run.options.communities)
    rates = run.reserve_ids(FeeRate._meta.db_table, 2 * run.options.communities)
    values = ", ".join(
        f"({k}, '{code}', '{name}', '{kind}')" for k, (code, name, kind) in enumerate(ITEMS)
    )
    run.execute(
        f"""
        CREATE TEMP TABLE gen_item AS
        SELECT c.community_id, c.company_id, i.k, {items} + c.idx * 2 + i.k AS fee_item_id,
               {rates} + c.idx * 2 + i.k AS rate_id, i.code, i.name, i.kind,
               CASE i.k WHEN 0 THEN (1.5 + 0.1 * floor({run.r("c.idx", S_PRICE)} * 24))::numeric
                        ELSE (ARRAY[10, 12, 15])[1 + floor({run.r("c.idx", S_FIXED)} * 3)::int]
               END::numeric(12, 4) AS unit_price, c.finance_user
        FROM gen_community c CROSS JOIN (VALUES {values}) AS i(k, code, name, kind)
        """
    )
    created = f"(((%(first)s::date - 20) + time '10:00') AT TIME ZONE '{TZ}')"
    run.execute(
        f"""
        INSERT INTO {FeeItem._meta.db_table} (id, company_id, community_id, code, name, kind,
            area_basis, cycle, house_kinds, due_days, is_active, created_at)
        SELECT fee_item_id, company_id, community_id, code, name, kind, 'built', 'month',
               '["residence", "shop", "office"]', {DUE_DAYS}, true, {created}
        FROM gen_item ORDER BY fee_item_id
        """,
        {"first": first_month},
        table=FeeItem._meta.db_table,
    )
    run.execute(
        f"""
        INSERT INTO {FeeRate._meta.db_table} (id, fee_item_id, effective_from, unit_price,
            multiplier, tiers, created_by_id, created_at)
        SELECT rate_id, fee_item_id, %(first)s, unit_price, 1, '[]', finance_user, {created}
        FROM gen_item ORDER BY rate_id
        """,
        {"first": first_month},
        table=FeeRate._meta.db_table,
    )
    run.execute("CREATE UNIQUE INDEX ON gen_item (community_id, k)")
    run.execute("ANALYZE gen_item")


def create_chargings(run, houses: int) -> None:
    first_month = run.months()[0]
    with indexes_dropped(run, Charging._meta.db_table, 2 * houses):
        run.execute(
            f"""
            INSERT INTO {Charging._meta.db_table} (company_id, community_id, house_id,
                fee_item_id, start, "end", created_at)
            SELECT h.company_id, h.community_id, h.house_id, i.fee_item_id, %(first)s, NULL,
                   ((%(first)s::date - 20) + time '10:00') AT TIME ZONE '{TZ}'
            FROM gen_house h JOIN gen_item i ON i.community_id = h.community_id
            ORDER BY h.idx, i.k
            """,
            {"first": first_month},
            table=Charging._meta.db_table,
        )


def _amount(item: str, house: str = "h") -> str:
    """SQL: a bill's amount, as ``billing.runs`` rounds it (half up, once, to the cent)."""
    return (
        f"CASE {item}.k WHEN 0 THEN round({house}.built_area * {item}.unit_price, 2) "
        f"ELSE round({item}.unit_price, 2) END"
    )


def create_runs(run) -> None:
    """One issued bill run per community and month, with what it issued."""
    months = run.options.months
    first = run.reserve_ids(BillRun._meta.db_table, run.options.communities * months)
    run.ids["first_run"] = first
    issued = f"((m.period_start + time '02:00') AT TIME ZONE '{TZ}')"
    run.execute(
        f"""
        INSERT INTO {BillRun._meta.db_table} (id, company_id, community_id, period_kind,
            period_start, period_end, state, preview, bills_planned, amount_planned, lines_done,
            bills_created, bills_skipped, amount_issued, checkpoint, error, created_by_id,
            created_at, started_at, heartbeat_at, finished_at)
        SELECT {first} + c.idx * {months} + m.m, c.company_id, c.community_id, 'month',
               m.period_start, m.period_end, 'issued', '{{}}', t.bills, t.amount, t.bills,
               t.bills, 0, t.amount, '{{}}', '', c.finance_user, {issued} - interval '5 minutes',
               {issued}, {issued} + interval '3 minutes', {issued} + interval '3 minutes'
        FROM gen_community c CROSS JOIN gen_month m
        JOIN (SELECT h.community_id, count(*) AS bills, sum({_amount("i")}) AS amount
              FROM gen_house h JOIN gen_item i ON i.community_id = h.community_id
              GROUP BY h.community_id) AS t ON t.community_id = c.community_id
        ORDER BY 1
        """,
        table=BillRun._meta.db_table,
    )


def _paid(run) -> str:
    """SQL over ``h`` (house) and ``m`` (month): when the house paid the month's bills, or
    NULL when it has not (by the anchor)."""
    key = "(h.idx * 64 + m.m)"
    pays = (
        f"({run.r('h.idx', S_CHRONIC)} >= 0.05 AND {run.r(key, S_PAY)} < "
        "CASE WHEN h.occupancy = 'vacant' THEN 0.6 ELSE 0.95 END)"
    )
    when = (
        f"(((m.period_start + 1 + floor(40 * {run.r(key, S_PAY_DAY)} ^ 2)::int) + time '08:00') "
        f"AT TIME ZONE '{TZ}' + {run.r(key, S_PAY_HOUR)} * interval '14 hours')"
    )
    return f"CASE WHEN {pays} AND {when} <= %(anchor)s THEN {when} END"


def create_bills(run, houses: int) -> None:
    months, first = run.options.months, run.ids["first_bill"]
    detail = """jsonb_build_object(
        'kind', i.kind,
        'months', jsonb_build_array(jsonb_build_object('month', to_char(m.period_start, 'YYYY-MM'),
            'days', m.days, 'of', m.days, 'unit_price', i.unit_price::text)),
        'exact', rtrim(rtrim(CASE i.k WHEN 0 THEN (h.built_area * i.unit_price)::text
                                  ELSE i.unit_price::text END, '0'), '.'),
        'rounding', 'half_up', 'amount', x.amount::text, 'basis', 'actual_days')
        || CASE i.k WHEN 0 THEN jsonb_build_object('area', h.built_area::text,
                                                  'area_basis', 'built')
                ELSE '{}'::jsonb END"""
    issued = f"((m.period_start + time '02:00') AT TIME ZONE '{TZ}')"
    sql = f"""
        INSERT INTO {Bill._meta.db_table} (id, company_id, community_id, house_id, fee_item_id,
            run_id, origin, reference, period_start, period_end, amount, adjusted_amount,
            paid_amount, due_date, status, detail, source_bill_id, created_at, updated_at)
        SELECT {first} + (h.idx * {months} + m.m) * 2 + i.k, h.company_id, h.community_id,
               h.house_id, i.fee_item_id, {run.ids["first_run"]} + c.idx * {months} + m.m, 'run',
               '', m.period_start, m.period_end, x.amount, 0,
               CASE WHEN x.paid_at IS NULL THEN 0 ELSE x.amount END,
               m.period_start + {DUE_DAYS},
               CASE WHEN x.paid_at IS NULL THEN 'open' ELSE 'paid' END, {detail}, NULL,
               {issued}, coalesce(x.paid_at, {issued})
        FROM gen_house h
        JOIN gen_community c ON c.community_id = h.community_id
        JOIN gen_item i ON i.community_id = h.community_id
        CROSS JOIN gen_month m
        CROSS JOIN LATERAL (SELECT {_amount("i")} AS amount, {_paid(run)} AS paid_at) AS x
        WHERE h.idx BETWEEN %(lo)s AND %(hi)s
        """
    for lo, hi in batches(0, houses - 1, BATCH):
        run.execute(sql, {"lo": lo, "hi": hi, "anchor": run.anchor}, table=Bill._meta.db_table)


def create_payments(run, houses: int) -> None:
    """One payment per paid house-month; receipt numbers by company and month of receipt
    in order of receipt (a window over all the payments of the run)."""
    months, first = run.options.months, run.ids["first_payment"]
    method = (
        f"CASE WHEN {run.r('h.idx * 64 + m.m', S_METHOD)} < 0.55 THEN 'online' "
        f"WHEN {run.r('h.idx * 64 + m.m', S_METHOD)} < 0.70 THEN 'transfer' "
        f"WHEN {run.r('h.idx * 64 + m.m', S_METHOD)} < 0.85 THEN 'pos' ELSE 'cash' END"
    )
    run.execute(
        f"""
        CREATE TEMP TABLE gen_payment AS
        SELECT {first} + h.idx * {months} + m.m AS id, h.idx, m.m, h.company_id, c.company_code,
               h.community_id, h.house_id, h.payer, {method} AS method, p.paid_at,
               c.finance_user,
               (SELECT sum({_amount("i")}) FROM gen_item i WHERE i.community_id = h.community_id)
                   AS amount
        FROM gen_house h JOIN gen_community c ON c.community_id = h.community_id
        CROSS JOIN gen_month m
        CROSS JOIN LATERAL (SELECT {_paid(run)} AS paid_at) AS p
        WHERE p.paid_at IS NOT NULL
        """,
        {"anchor": run.anchor},
    )
    month = f"to_char(p.paid_at AT TIME ZONE '{TZ}', 'YYYYMM')"
    number = f"row_number() OVER (PARTITION BY p.company_id, {month} ORDER BY p.paid_at, p.id)"
    receipt = zero_padded(number, 6)
    with indexes_dropped(run, Payment._meta.db_table, houses * months):
        run.execute(
            f"""
            INSERT INTO {Payment._meta.db_table} (id, company_id, community_id, house_id, payer,
                method, amount, refunded_amount, received_at, received_by_id, reference,
                idempotency_key, status, receipt_no, created_at)
            SELECT p.id, p.company_id, p.community_id, p.house_id, p.payer, p.method, p.amount, 0,
                   p.paid_at, CASE WHEN p.method <> 'online' THEN p.finance_user END, '', '',
                   'completed',
                   'SJ-' || upper(p.company_code) || '-' || {month} || '-' || {receipt},
                   p.paid_at
            FROM gen_payment p
            """,
            table=Payment._meta.db_table,
        )
    run.execute(
        f"""
        INSERT INTO {ReceiptCounter._meta.db_table} (company_id, month, last_number)
        SELECT company_id, date_trunc('month', paid_at AT TIME ZONE '{TZ}')::date, count(*)
        FROM gen_payment GROUP BY 1, 2 ORDER BY 1, 2
        """,
        table=ReceiptCounter._meta.db_table,
    )


def create_allocations(run, houses: int) -> None:
    months = run.options.months
    first_bill, first = run.ids["first_bill"], run.ids["first_allocation"]
    with indexes_dropped(run, Allocation._meta.db_table, 2 * houses * months):
        run.execute(
            f"""
            INSERT INTO {Allocation._meta.db_table} (id, payment_id, bill_id, amount,
                refunded_amount)
            SELECT {first} + (p.idx * {months} + p.m) * 2 + i.k, p.id,
                   {first_bill} + (p.idx * {months} + p.m) * 2 + i.k, {_amount("i")}, 0
            FROM gen_payment p JOIN gen_house h ON h.idx = p.idx
            JOIN gen_item i ON i.community_id = p.community_id
            """,
            table=Allocation._meta.db_table,
        )


def generate(run) -> None:
    houses = stage(run)
    months = run.options.months
    run.ids["first_bill"] = run.reserve_ids(Bill._meta.db_table, 2 * houses * months)
    run.ids["first_payment"] = run.reserve_ids(Payment._meta.db_table, houses * months)
    run.ids["first_allocation"] = run.reserve_ids(Allocation._meta.db_table, 2 * houses * months)
    create_fee_items(run)
    create_chargings(run, houses)
    create_runs(run)
    timer = Timer()
    with indexes_dropped(run, Bill._meta.db_table, 2 * houses * months):
        create_bills(run, houses)
    run.progress(f"{run.rows[Bill._meta.db_table]:,} bills in {timer.seconds:.1f} s")
    create_payments(run, houses)
    create_allocations(run, houses)
