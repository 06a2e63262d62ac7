"""``wuye backup`` / ``wuye restore``: round trips on SQLite and PostgreSQL compared by
row counts and checksums, and the refusals (other engine, a target holding data, a
tampered archive)."""

import io
import json
import sqlite3
import tarfile

import psycopg
import pytest
from django.db import connection

from wuye import cli
from wuye.accounts.models import User
from wuye.core import backup
from wuye.workorders.models import WorkOrder

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite round trip")
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    (root / "photos").mkdir(parents=True)
    (root / "photos" / "漏水.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


def submitted_order(cast):
    from wuye.workorders import services
    from wuye.workorders.models import Category, Channel

    return services.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code="taps_toilets"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="厨房水龙头漏水",
    )


def tamper(archive, out, table):
    """A copy of ``archive`` whose manifest claims other content for ``table``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name == backup.MANIFEST:
                manifest = json.load(data)
                manifest["tables"][table]["sha256"] = "0" * 64
                raw = json.dumps(manifest).encode()
                member.size = len(raw)
                data = io.BytesIO(raw)
            target.addfile(member, data)
    return out


@on_sqlite
@pytest.mark.django_db(transaction=True)  # as in production: no transaction left open
def test_sqlite_round_trip_restores_every_row_and_the_media(cast, media, tmp_path, capsys):
    submitted_order(cast)
    archive = tmp_path / "backup.tar.gz"
    assert cli.main(["backup", "--output", str(archive)]) == 0
    assert "tables" in capsys.readouterr().out
    manifest = backup.backup(connection, archive, media)
    assert manifest["tables"]["accounts_user"]["rows"] == User.objects.count()
    assert manifest["tables"]["workorders_workorder"]["rows"] == 1

    restored_db, restored_media = tmp_path / "restored.sqlite3", tmp_path / "restored-media"
    again = backup.restore(archive, {"NAME": str(restored_db)}, "sqlite", restored_media)
    assert again["tables"] == manifest["tables"]
    with sqlite3.connect(restored_db) as db:
        (orders,) = db.execute("SELECT COUNT(*) FROM workorders_workorder").fetchone()
        (description,) = db.execute("SELECT description FROM workorders_workorder").fetchone()
    assert (orders, description) == (1, "厨房水龙头漏水")
    assert (restored_media / "photos" / "漏水.jpg").read_bytes() == b"\xff\xd8 not really a jpeg"

    # The same target again: it holds data now.
    with pytest.raises(backup.BackupError, match="already holds data"):
        backup.restore(archive, {"NAME": str(restored_db)}, "sqlite", None)
    assert backup.restore(archive, {"NAME": str(restored_db)}, "sqlite", None, force=True)

    with pytest.raises(backup.BackupError, match="postgresql"):
        backup.restore(archive, {"NAME": "x"}, "postgresql", None)
    forged = tamper(archive, tmp_path / "forged.tar.gz", "workorders_workorder")
    with pytest.raises(backup.BackupError, match="workorders_workorder: same row count"):
        backup.restore(forged, {"NAME": str(tmp_path / "other.sqlite3")}, "sqlite", None)


def test_restore_of_something_else_is_a_clear_error(tmp_path, capsys):
    junk = tmp_path / "notes.tar.gz"
    junk.write_bytes(b"not an archive")
    assert cli.main(["restore", str(junk)]) == 2
    assert "is not a Wuye backup" in capsys.readouterr().err


def test_compare_names_each_difference():
    expected = {"a": {"rows": 2, "sha256": "x"}, "b": {"rows": 1, "sha256": "y"}}
    actual = {"a": {"rows": 3, "sha256": "x"}, "c": {"rows": 0, "sha256": "z"}}
    assert backup.compare(expected, actual) == [
        "a: 3 rows, expected 2",
        "b: missing",
        "c: unexpected",
    ]
    assert backup.compare(expected, expected) == []


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_round_trip_into_a_fresh_database(cast, tmp_path):
    order = submitted_order(cast)
    archive = tmp_path / "backup.tar.gz"
    manifest = backup.backup(connection, archive, None)
    assert manifest["engine"] == "postgresql" and manifest["media"] is False
    assert manifest["tables"]["workorders_workorder"]["rows"] == WorkOrder.objects.count() == 1

    settings_dict = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_rt"}
    server = backup._psycopg_kwargs(connection.settings_dict)
    with psycopg.connect(**{**server, "dbname": "postgres"}) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}"')
        admin.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')
    try:
        restored = backup.restore(archive, settings_dict, "postgresql", None)
        assert restored["tables"] == manifest["tables"]
        with psycopg.connect(**{**server, "dbname": settings_dict["NAME"]}) as db:
            row = db.execute(
                "SELECT number, description FROM workorders_workorder WHERE id = %s", [order.id]
            ).fetchone()
        assert row == (order.number, "厨房水龙头漏水")
        with pytest.raises(backup.BackupError, match="already holds data"):
            backup.restore(archive, settings_dict, "postgresql", None)
        forged = tamper(archive, tmp_path / "forged.tar.gz", "accounts_user")
        with pytest.raises(backup.BackupError, match="accounts_user: same row count"):
            backup.restore(forged, settings_dict, "postgresql", None, force=True)
    finally:
        with psycopg.connect(**{**server, "dbname": "postgres"}) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')
