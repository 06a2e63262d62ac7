"""Residents: one per occupied house (owner-occupied or renovating: the owner; rented:
a tenant), each with a login (username = mobile, no usable password, as
``accounts.services.get_or_create_mobile_users`` makes them), a ``Resident`` row and an
open ``Residency`` since a move-in date between the community's delivery and the
start of the data.

Mobiles are ``19`` + a permutation of nine digits (the row number times 3¹⁸, which is
prime to 10, plus a seed offset, modulo 10⁹), so they are unique without a lookup.
"""

from wuye.accounts.models import User
from wuye.gendata.sql import person_name
from wuye.people.models import Residency, Resident

NAME_STREAM = 10


def stage(run) -> int:
    """``gen_res``: the occupied houses in id order with their resident's name, mobile,
    move-in time and (once written) user id; the orders step picks reporters from it."""
    key = "x.rn"
    run.execute(
        f"""
        CREATE TEMP TABLE gen_res AS
        SELECT x.rn, x.house_id, x.community_id, x.company_id, x.occupancy,
               '19' || lpad(mod(x.rn * 387420489 + {run.seed % 1000003} * 7919,
                                1000000000)::text, 9, '0') AS mobile,
               {person_name(key, run.seed, NAME_STREAM)} AS name,
               x.created_at + {run.r(key, 20)} * (%(start)s - x.created_at) AS moved_in,
               0::bigint AS user_id
        FROM (
            SELECT row_number() OVER (ORDER BY h.id) AS rn, h.id AS house_id,
                   h.community_id, h.company_id, h.occupancy, h.created_at
            FROM estates_house h
            WHERE h.company_id IN (SELECT id FROM gen_company) AND h.occupancy <> 'vacant'
        ) AS x
        """,
        {"start": run.start},
    )
    run.execute("CREATE UNIQUE INDEX ON gen_res (rn)")
    count = run.value("SELECT count(*) FROM gen_res")
    taken = run.value(
        f"SELECT count(*) FROM {User._meta.db_table} u JOIN gen_res r "
        "ON u.mobile = r.mobile OR u.username = r.mobile"
    )
    if taken:
        raise RuntimeError(f"{taken} generated resident mobiles are already logins here")
    return count


def generate(run) -> None:
    count = stage(run)
    users = run.reserve_ids(User._meta.db_table, count)
    residents = run.reserve_ids(Resident._meta.db_table, count)
    residencies = run.reserve_ids(Residency._meta.db_table, count)
    run.execute(f"UPDATE gen_res SET user_id = {users - 1} + rn")
    # "!" + text: what set_unusable_password stores; derived, not random, so reruns match.
    run.execute(
        f"""
        INSERT INTO {User._meta.db_table} (id, password, last_login, is_superuser, username,
            first_name, last_name, email, is_staff, is_active, date_joined, mobile)
        SELECT user_id, '!' || md5('{run.seed}:' || rn), NULL, false, mobile, name, '', '',
               false, true, moved_in, mobile
        FROM gen_res ORDER BY rn
        """,
        table=User._meta.db_table,
    )
    run.execute(
        f"""
        INSERT INTO {Resident._meta.db_table} (id, company_id, user_id, name, mobile, id_number,
            note, created_at, updated_at)
        SELECT {residents - 1} + rn, company_id, user_id, name, mobile, '', '', moved_in, moved_in
        FROM gen_res ORDER BY rn
        """,
        table=Resident._meta.db_table,
    )
    run.execute(
        f"""
        INSERT INTO {Residency._meta.db_table} (id, resident_id, house_id, relation, move_in,
            move_out, created_at)
        SELECT {residencies - 1} + rn, {residents - 1} + rn, house_id,
               CASE WHEN occupancy = 'rented' THEN 'tenant' ELSE 'owner' END,
               (moved_in AT TIME ZONE 'Asia/Shanghai')::date, NULL, moved_in
        FROM gen_res ORDER BY rn
        """,
        table=Residency._meta.db_table,
    )
    run.execute("ANALYZE gen_res")
