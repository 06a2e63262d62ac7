"""Default rows a new company starts with, created in bulk and idempotently."""


def create_missing(model, *, key: str, rows: dict, **scope) -> dict:
    """The rows of ``model`` under ``scope`` (e.g. ``company=…``) whose ``key`` field is
    one of ``rows`` (key value → the other fields), creating the missing ones with one
    bulk insert; existing rows are left as edited. Returns key value → instance.

    One query to look and one to insert, instead of a get_or_create per row: a new
    company seeds some 150 default rows, in every test and every sign-up."""
    existing = {
        getattr(row, key): row
        for row in model.objects.filter(**scope, **{f"{key}__in": list(rows)})
    }
    missing = [
        model(**scope, **{key: value}, **fields)
        for value, fields in rows.items()
        if value not in existing
    ]
    # PostgreSQL and SQLite ≥ 3.35 return the new primary keys from a bulk insert.
    model.objects.bulk_create(missing)
    return existing | {getattr(row, key): row for row in missing}
