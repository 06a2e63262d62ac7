"""``--replace``: delete every row of the generated companies, whatever app wrote it.

A row goes when one of its foreign keys points at a row that goes: the companies
themselves, their staff's and residents' logins, and transitively everything hanging
off those (events of their orders, allocations of their bills, answers of their
visits …). The tables are emptied children first, in one transaction; PostgreSQL checks
the (deferred) foreign keys at commit, so a row of another company that points into the
generated data makes the whole delete fail instead of leaving half of it. Dropping the
database is faster for the large preset.
"""

from django.apps import apps
from django.db import connection, models, transaction

from wuye.accounts.models import User
from wuye.estates.models import Company
from wuye.gendata.registry import GENERATED_CODE


def generated_companies() -> list[tuple[int, str]]:
    return list(
        Company.objects.filter(code__regex=GENERATED_CODE).order_by("id").values_list("id", "code")
    )


def _foreign_keys(model) -> list[models.ForeignKey]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.remote_field.model is not model
    ]


def _tables() -> list:
    seen, result = set(), []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy and model._meta.db_table not in seen:
            seen.add(model._meta.db_table)
            result.append(model)
    return result


def _children_first(tables) -> list:
    """Tables ordered so that a table comes before every table it points at (cycles,
    if any, broken where they are found)."""
    order, state = [], {}

    def visit(model):
        if state.get(model) == "done":
            return
        if state.get(model) == "active":
            return  # a cycle: the deferred constraints will tell if it mattered
        state[model] = "active"
        for child in tables:
            if any(f.remote_field.model is model for f in _foreign_keys(child)):
                visit(child)
        state[model] = "done"
        order.append(model)

    for model in tables:
        visit(model)
    return order  # children were appended before their parents


def _company_field(model):
    return next(
        (
            f
            for f in _foreign_keys(model)
            if f.name == "company" and f.remote_field.model is Company
        ),
        None,
    )


def _owned(model, memo, depth=0) -> str | None:
    """SQL selecting the key of every row of ``model`` that must go, or None. A row of a
    table with a ``company`` column goes with its company; elsewhere with any parent.
    Unions of semi-joins, no ORs: PostgreSQL joins them even at tens of millions of rows."""
    quote = connection.ops.quote_name
    if model is Company:
        return "SELECT id FROM gen_del_company"
    if model is User:
        return "SELECT id FROM gen_del_user"
    if model in memo:
        return memo[model]
    if depth > 4:
        return None
    memo[model] = None  # guards against cycles while this one is worked out
    pk = quote(model._meta.pk.column)
    parts = [
        f"SELECT {pk} FROM {quote(model._meta.db_table)} WHERE {condition}"
        for condition in _conditions(model, memo, depth)
    ]
    memo[model] = " UNION ".join(parts) if parts else None
    return memo[model]


def _conditions(model, memo, depth=0) -> list[str]:
    """One ``column IN (…)`` per way a row of ``model`` belongs to the generated data."""
    quote = connection.ops.quote_name
    company = _company_field(model)
    fields = [company] if company is not None else _foreign_keys(model)
    conditions = []
    for field in fields:
        inner = _owned(field.remote_field.model, memo, depth + 1)
        if inner is not None:
            conditions.append(f"{quote(field.column)} IN ({inner})")
    return conditions


def delete_generated(log) -> int:
    """Delete the generated companies and everything of theirs; returns the rows deleted."""
    from wuye.people.models import Resident
    from wuye.staff.models import StaffMember

    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "CREATE TEMP TABLE gen_del_company ON COMMIT DROP AS "
            f"SELECT id FROM {Company._meta.db_table} WHERE code ~ %s",
            [GENERATED_CODE],
        )
        cursor.execute(
            "CREATE TEMP TABLE gen_del_user ON COMMIT DROP AS "
            f"SELECT user_id AS id FROM {StaffMember._meta.db_table} "
            "WHERE company_id IN (SELECT id FROM gen_del_company) "
            f"UNION SELECT user_id FROM {Resident._meta.db_table} "
            "WHERE company_id IN (SELECT id FROM gen_del_company) AND user_id IS NOT NULL"
        )
        cursor.execute("ANALYZE gen_del_user")
        memo = {}
        for model in _children_first(_tables()):
            if model is Company:
                conditions = ["id IN (SELECT id FROM gen_del_company)"]
            elif model is User:
                conditions = ["id IN (SELECT id FROM gen_del_user)"]
            else:
                conditions = _conditions(model, memo)
            table = connection.ops.quote_name(model._meta.db_table)
            deleted = 0
            for condition in conditions:
                cursor.execute(f"DELETE FROM {table} WHERE {condition}")
                deleted += max(cursor.rowcount, 0)
            if deleted:
                log(f"    deleted {deleted:,} rows of {model._meta.db_table}")
                total += deleted
    return total
