"""One page of rows, its ids chosen before any join.

PostgreSQL plans a filtered, joined, sorted and limited query as one. When it misjudges
how many rows a filter keeps (a text search, a backlog status), it joins every
candidate row before sorting and cutting the page: a community manager's search at
2,000,000 orders took 6 s, joining 66,000 orders to their assignees to keep 51. Picking
the page's ids on the bare table first, then loading those rows with their joins and
prefetches, keeps each step at index cost (bench/README.md, work queue at scale).
"""


def page_rows(queryset, start: int, stop: int) -> list:
    """``list(queryset[start:stop])``, in the queryset's order, ids first."""
    if not queryset.query.select_related:  # no joins: one query is as good
        return list(queryset[start:stop])
    bare = queryset.select_related(None).prefetch_related(None)
    ids = list(bare.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    by_pk = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
    return [by_pk[pk] for pk in ids]


class IdsFirst:
    """Just enough of a queryset for django-ninja's cursor pagination (ordering, the
    position filter, the page slice), with the slice taken by ``page_rows``."""

    def __init__(self, queryset):
        self.queryset = queryset

    def order_by(self, *fields):
        return IdsFirst(self.queryset.order_by(*fields))

    def filter(self, *args, **lookups):
        return IdsFirst(self.queryset.filter(*args, **lookups))

    def __getitem__(self, bounds: slice) -> list:
        return page_rows(self.queryset, bounds.start or 0, bounds.stop)
