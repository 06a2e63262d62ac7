"""What every step shares: the run's context, counter-based random draws in SQL, id
blocks, and statement execution with row counts.

Random draws are ``rnd(key, stream)``: a hash of (seed, stream, key) scaled to [0, 1).
A draw depends only on its key (a row's index within the run) and its stream, never on
the order PostgreSQL happens to read rows in, the batch size or parallel workers — so
the same seed gives the same rows even where ``setseed``/``random()`` would not (a
heap with free space after ``--replace`` is scanned in another order). Later steps
recompute an order's hidden draws (its rating, its reopening) from its index instead
of storing them.
"""

import contextlib
import dataclasses
import datetime
import time
from collections.abc import Callable

from django.db import connection

TZ = "Asia/Shanghai"  # the data's local time (``settings.TIME_ZONE`` default)
STREAM_SPACE = 1000  # streams per seed in the hash seed (seed * 1000 + stream)
_SCALE = 2147483648.0  # 2**31: the low 31 bits of the hash, as a fraction


def rnd(key: str, stream: int, seed: int) -> str:
    """SQL for a uniform draw in [0, 1) keyed by the SQL expression ``key``."""
    if not 0 <= stream < STREAM_SPACE:
        raise ValueError(f"stream {stream} out of range")
    return (
        f"((hashint8extended(({key})::bigint, {seed * STREAM_SPACE + stream}) "
        f"& 2147483647)::float8 / {_SCALE})"
    )


def pick(options: list[tuple[str, float]], draw: str) -> str:
    """SQL CASE choosing one of ``options`` (SQL value, weight) by a [0, 1) draw."""
    total = sum(weight for _value, weight in options)
    branches, upto = [], 0.0
    for value, weight in options[:-1]:
        upto += weight / total
        branches.append(f"WHEN {draw} < {upto:.6f} THEN {value}")
    return f"(CASE {' '.join(branches)} ELSE {options[-1][0]} END)"


def text_array(values) -> str:
    """A SQL text[] literal (values are our own constants, quotes doubled anyway)."""
    quoted = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f"ARRAY[{quoted}]::text[]"


def choose(values, draw: str) -> str:
    """SQL: one element of a constant list, uniformly by a [0, 1) draw."""
    return f"({text_array(values)})[1 + floor({draw} * {len(values)})::int]"


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏建红飞鑫波斌宇浩凯秀兰丹辉俊峰琳婷雪颖倩晨阳欣怡子涵梓轩思远"  # noqa: E501


def person_name(key: str, seed: int, stream: int) -> str:
    """SQL for a Chinese personal name: a common surname and one or two given characters
    (three draws from ``stream`` .. ``stream + 2``)."""
    surname = f"substr('{SURNAMES}', 1 + floor({rnd(key, stream, seed)} * {len(SURNAMES)})::int, 1)"
    first = f"substr('{GIVEN}', 1 + floor({rnd(key, stream + 1, seed)} * {len(GIVEN)})::int, 1)"
    second = f"substr('{GIVEN}', 1 + floor({rnd(key, stream + 2, seed)} * {len(GIVEN)})::int, 1)"
    return (
        f"({surname} || {first} || CASE WHEN {rnd(key, stream + 3, seed)} < 0.65 "
        f"THEN {second} ELSE '' END)"
    )


def zero_padded(expr: str, width: int) -> str:
    """SQL: an integer as text, zero-padded to ``width`` like Python's ``f"{n:0{width}d}"``
    (``lpad`` alone would cut longer numbers down to ``width``)."""
    return f"lpad(({expr})::text, greatest({width}, length(({expr})::text)), '0')"


def local_ts(expr: str) -> str:
    """SQL: an aware timestamp as local wall time (timestamp without time zone)."""
    return f"(({expr}) AT TIME ZONE '{TZ}')"


def from_local(expr: str) -> str:
    """SQL: a local wall time back to an aware timestamp."""
    return f"(({expr}) AT TIME ZONE '{TZ}')"


def iso(expr: str) -> str:
    """SQL text of an aware timestamp as Python's ``isoformat()`` in local time writes it
    (what the services store in JSON)."""
    return (
        f"CASE WHEN ({expr}) IS NULL THEN NULL ELSE "
        f"to_char({local_ts(expr)}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+08:00' END"
    )


@dataclasses.dataclass
class Run:
    """One generation: the options, the time window and what has been written."""

    options: object  # wuye.gendata.options.Options
    anchor: datetime.datetime  # the data's "now": nothing happens at or after it
    start: datetime.datetime  # the first order's earliest submission time
    log: Callable[[str], None]
    rows: dict = dataclasses.field(default_factory=dict)  # table -> rows written
    ids: dict = dataclasses.field(default_factory=dict)  # what later steps look up

    @property
    def seed(self) -> int:
        return self.options.seed

    def r(self, key: str, stream: int) -> str:
        return rnd(key, stream, self.seed)

    def months(self) -> list[datetime.date]:
        """The first days of the billed months: ``months`` natural months ending with
        the anchor's month."""
        local = self.anchor.astimezone(_zone()).date().replace(day=1)
        first = _add_months(local, -(self.options.months - 1))
        return [_add_months(first, k) for k in range(self.options.months)]

    def execute(self, sql: str, params=None, *, table: str | None = None) -> int:
        """Run one statement; count its rows against ``table`` when given."""
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = max(cursor.rowcount, 0)
        if table:
            self.rows[table] = self.rows.get(table, 0) + count
        return count

    def value(self, sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def reserve_ids(self, table: str, count: int) -> int:
        """Take ``count`` ids of ``table``'s sequence for explicit ids; returns the first.
        Moving the sequence past the block first keeps later ORM inserts (and anyone
        writing meanwhile) clear of it."""
        sequence = self.value("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        highest = self.value(f"SELECT coalesce(max(id), 0) FROM {table}")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last, called = cursor.fetchone()
            base = max(highest, last if called else last - 1)
            cursor.execute("SELECT setval(%s, %s, true)", [sequence, base + max(count, 1)])
        return base + 1

    def progress(self, message: str) -> None:
        self.log(f"    {message}")


def local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(_zone()).date()


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def batches(first: int, last: int, size: int):
    """(low, high) inclusive ranges covering first..last."""
    low = first
    while low <= last:
        high = min(low + size - 1, last)
        yield low, high
        low = high + 1


class Timer:
    def __init__(self):
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


@contextlib.contextmanager
def indexes_dropped(run, table: str, adding: int):
    """Write ``adding`` rows into ``table`` without maintaining its secondary indexes:
    they are dropped, and rebuilt from their own definitions afterwards — one sorted
    build instead of millions of random insertions (17 indexes on the work orders: ~50
    buffer visits per row). Unique indexes and those behind constraints stay. In the
    step's transaction, so a failure brings the old indexes back. Only worth it when
    the table gains more rows than it has."""
    existing = run.value("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
    if adding < max(existing or 0, 50_000):
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname
            """,
            [table],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    timer = Timer()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in definitions:
            cursor.execute(definition)
    if definitions:
        run.progress(f"{len(definitions)} indexes of {table} rebuilt in {timer.seconds:.1f} s")


def stage_communities(run) -> None:
    """``gen_community``: the generated communities numbered from 0, with their company's
    code and finance officer (bills and rounds both use it)."""
    if run.value("SELECT to_regclass('pg_temp.gen_community')") is not None:
        return
    run.execute(
        """
        CREATE TEMP TABLE gen_community AS
        SELECT row_number() OVER (ORDER BY c.id) - 1 AS idx, c.id AS community_id, c.company_id,
               co.code AS company_code,
               (SELECT s.user_id FROM gen_staff s WHERE s.company_id = c.company_id
                 AND s.role = 'finance' LIMIT 1) AS finance_user
        FROM estates_community c JOIN estates_company co ON co.id = c.company_id
        WHERE c.company_id IN (SELECT id FROM gen_company)
        """
    )
