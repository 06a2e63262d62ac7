"""Ratings and complaint rows of the generated orders.

A rating exists for every order the orders step had rated by the anchor (same draws:
``orders.rating``): the overall score and the five SERVQUAL dimensions near it (each
within one star, 85 % of them given), a comment on a third of the low ones. Every
complaint has its complaint row (about a department 40 %, a neighbour 25 %, a vendor
10 %, unstated 25 %; 10 % disputes); the ones resolved by the anchor carry their root
cause (the service supervisor records it when resolving).
"""

from wuye.gendata import catalog
from wuye.gendata.orders import rating
from wuye.gendata.sql import choose, pick
from wuye.workorders.models import Complaint, Feedback, WorkOrder

S_DIMS = 40  # 40 … 49: the dimensions' offsets and whether each is given
S_COMMENT, S_PARTY, S_DISPUTE, S_CAUSE, S_DEMAND = 50, 51, 52, 53, 54
LOW_COMMENTS = ("师傅来得太晚了", "问题没有彻底解决", "态度一般，没说清楚原因", "等了好几天")
HIGH_COMMENTS = ("师傅很专业，谢谢", "响应很快，满意", "处理及时，态度好")
DEMANDS = ("尽快处理", "给个说法", "希望加强管理", "要求赔偿损失", "")


def _order_index(run, alias: str) -> str:
    """SQL: the order's index g (1 … N) in this run, from its id."""
    return f"({alias}.id - {run.ids['first_order'] - 1})"


def create_feedback(run) -> None:
    inner, outer = _order_index(run, "o"), _order_index(run, "f")
    rate = rating(run, inner)
    dims = []
    for k in range(len(Feedback.DIMENSIONS)):
        shift = f"(floor({run.r(outer, S_DIMS + 2 * k)} * 3)::int - 1)"
        dims.append(
            f"CASE WHEN {run.r(outer, S_DIMS + 2 * k + 1)} < 0.85 "
            f"THEN greatest(1, least(5, f.overall + {shift})) END"
        )
    comment = (
        f"CASE WHEN f.overall <= 2 AND {run.r(outer, S_COMMENT)} < 0.35 "
        f"THEN {choose(LOW_COMMENTS, run.r(outer, S_COMMENT + 100))} "
        f"WHEN f.overall = 5 AND {run.r(outer, S_COMMENT)} < 0.1 "
        f"THEN {choose(HIGH_COMMENTS, run.r(outer, S_COMMENT + 100))} ELSE '' END"
    )
    run.execute(
        f"""
        INSERT INTO {Feedback._meta.db_table} (order_id, overall, professionalism, responsibility,
            appearance, empathy, tangibles, reasons, comment, staff_reply, replied_by_id,
            replied_at, created_at)
        SELECT f.id, f.overall, {", ".join(dims)}, '[]', {comment}, '', NULL, NULL, f.rated_at
        FROM (
            SELECT o.id, {rate["overall"]}::int AS overall,
                   o.completed_at + {rate["delay"]} AS rated_at
            FROM {WorkOrder._meta.db_table} o
            WHERE o.id BETWEEN %(first)s AND %(last)s AND o.completed_at IS NOT NULL
              AND {rate["rated"]}
            OFFSET 0
        ) AS f
        WHERE f.rated_at <= %(anchor)s
        ORDER BY f.id
        """,
        _range(run),
        table=Feedback._meta.db_table,
    )


def create_complaints(run) -> None:
    g = _order_index(run, "o")
    causes = pick([(f"'{c}'", w) for c, w in catalog.ROOT_CAUSES], run.r(g, S_CAUSE))
    run.execute(
        f"""
        INSERT INTO {Complaint._meta.db_table} (order_id, party_kind, party_staff_id, party_name,
            demand, is_dispute, root_cause, root_cause_note)
        SELECT o.id, {pick([(f"'{p}'", w) for p, w in catalog.PARTIES], run.r(g, S_PARTY))},
               NULL, '', {choose(DEMANDS, run.r(g, S_DEMAND))}, {run.r(g, S_DISPUTE)} < 0.1,
               CASE WHEN o.completed_at IS NOT NULL THEN {causes} ELSE '' END, ''
        FROM {WorkOrder._meta.db_table} o
        WHERE o.id BETWEEN %(first)s AND %(last)s AND o.request_type = 'complaint'
        ORDER BY o.id
        """,
        _range(run),
        table=Complaint._meta.db_table,
    )


def _range(run) -> dict:
    first = run.ids["first_order"]
    return {"first": first, "last": first + run.options.orders - 1, "anchor": run.anchor}


def generate(run) -> None:
    create_feedback(run)
    create_complaints(run)
