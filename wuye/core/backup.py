"""``wuye backup`` and ``wuye restore``: the database and local media in one archive.

The archive is a gzipped tar holding ``manifest.json`` (engine, time, row count and a
checksum per table), the database (SQLite through its online backup API, so the site
keeps running; PostgreSQL through ``pg_dump -Fc``) and, with local media storage, the
``media/`` folder. Restore refuses a database of the other engine and a target that
already holds data (unless forced), restores, then recounts and re-checksums every
table and refuses to call it done when anything differs from the manifest.

Checksums hash every row of every table in primary-key order, so the comparison proves
the rows, not only their number.
"""

import datetime
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

import psycopg

MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
FETCH = 5000


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


# --- table digests -------------------------------------------------------------------
def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    else:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    return [row[0] for row in cursor.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def digest(dbapi_connection, vendor: str) -> dict[str, dict]:
    """Row count and SHA-256 of every table's rows in a stable order."""
    cursor = dbapi_connection.cursor()
    result = {}
    for table in _tables(cursor, vendor):
        # Every column in order: a stable order without knowing the primary key.
        cursor.execute(f"SELECT * FROM {_quote(table)} LIMIT 0")
        columns = ", ".join(str(i + 1) for i in range(len(cursor.description)))
        hasher, count = hashlib.sha256(), 0
        if vendor == "postgresql":
            # A server-side cursor: a table of millions of rows is streamed, not loaded.
            stream = dbapi_connection.cursor(name=f"wuye_digest_{table}"[:60])
        else:
            stream = dbapi_connection.cursor()
        stream.execute(f"SELECT * FROM {_quote(table)} ORDER BY {columns}")
        while rows := stream.fetchmany(FETCH):
            for row in rows:
                hasher.update(repr(tuple(_plain(value) for value in row)).encode())
            count += len(rows)
        stream.close()
        result[table] = {"rows": count, "sha256": hasher.hexdigest()}
    cursor.close()
    return result


def _plain(value):
    """One spelling per value whichever driver read it (bytes vs memoryview, etc.)."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if value.tzinfo else value.isoformat()
    return value


# --- backup ----------------------------------------------------------------------------
def _postgres_env(settings_dict: dict) -> dict:
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _run(argv: list[str], env: dict) -> None:
    completed = subprocess.run(argv, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {completed.stderr.strip()[-500:]}")


def backup(connection, out: Path, media_root: Path | None) -> dict:
    """Write the archive ``out``; returns its manifest."""
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of {vendor} databases are not supported")
    connection.ensure_connection()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if vendor == "sqlite":
            database = work / SQLITE_MEMBER
            target = sqlite3.connect(database)
            with target:
                connection.connection.backup(target)
            # Digest the copy, not the live file: it is exactly what the archive holds.
            tables = digest(target, "sqlite")
            target.close()
        else:
            database = work / POSTGRES_MEMBER
            settings_dict = connection.settings_dict
            env = _postgres_env(settings_dict)
            # One snapshot for the dump and the digest: export it and dump from it.
            with psycopg.connect(**_psycopg_kwargs(settings_dict)) as snapshot:
                snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                (snapshot_id,) = snapshot.execute("SELECT pg_export_snapshot()").fetchone()
                _run(
                    [
                        "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot_id}",
                        f"--file={database}",
                        settings_dict["NAME"],
                    ],
                    env,
                )
                tables = digest(snapshot, "postgresql")
        manifest = {
            "format": 1,
            "engine": vendor,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "tables": tables,
            "media": bool(media_root and media_root.is_dir()),
        }
        with tarfile.open(out, "w:gz") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
            archive.add(database, arcname=database.name)
            if manifest["media"]:
                archive.add(media_root, arcname="media")
    return manifest


def _psycopg_kwargs(settings_dict: dict) -> dict:
    kwargs = {"dbname": settings_dict["NAME"], "autocommit": True}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user")):
        if settings_dict.get(key):
            kwargs[name] = settings_dict[key]
    if settings_dict.get("PASSWORD"):
        kwargs["password"] = settings_dict["PASSWORD"]
    return kwargs


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.datetime.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


# --- restore ---------------------------------------------------------------------------
def read_manifest(archive_path: Path) -> dict:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{archive_path} is not a Wuye backup: {exc}") from exc
    if manifest.get("format") != 1:
        raise BackupError(f"{archive_path}: unknown backup format {manifest.get('format')}")
    return manifest


def _holds_data(cursor, vendor: str) -> bool:
    tables = _tables(cursor, vendor)
    if "django_migrations" not in tables:
        return False
    # A migrated but empty database is fine to restore into; one with users is not.
    cursor.execute(
        'SELECT COUNT(*) FROM "accounts_user"' if "accounts_user" in tables else "SELECT 0"
    )
    return cursor.fetchone()[0] > 0


def restore(archive_path: Path, settings_dict: dict, vendor: str, media_root, *, force=False):
    """Restore the archive into the database ``settings_dict`` names; returns the
    manifest once every table's count and checksum match it."""
    manifest = read_manifest(archive_path)
    if manifest["engine"] != vendor:
        raise BackupError(
            f"this backup is of a {manifest['engine']} database; the target is {vendor}"
        )
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive_path, "r:gz") as archive:
        work = Path(work)
        archive.extractall(work, filter="data")
        if vendor == "sqlite":
            target_path = Path(settings_dict["NAME"])
            if target_path.exists() and not force:
                with sqlite3.connect(target_path) as existing:
                    if _holds_data(existing.cursor(), "sqlite"):
                        raise BackupError(f"{target_path} already holds data: use --force")
            source = sqlite3.connect(work / SQLITE_MEMBER)
            target = sqlite3.connect(target_path)
            with target:
                source.backup(target)
            source.close()
            restored = digest(target, "sqlite")
            target.close()
        else:
            kwargs = _psycopg_kwargs(settings_dict)
            with psycopg.connect(**kwargs) as existing:
                if not force and _holds_data(existing.cursor(), "postgresql"):
                    raise BackupError(
                        f"database {settings_dict['NAME']} already holds data: use --force"
                    )
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={settings_dict['NAME']}",
                    str(work / POSTGRES_MEMBER),
                ],
                _postgres_env(settings_dict),
            )
            with psycopg.connect(**kwargs) as restored_connection:
                restored_connection.execute("BEGIN")
                restored = digest(restored_connection, "postgresql")
        if manifest["media"] and media_root is not None:
            shutil.copytree(work / "media", media_root, dirs_exist_ok=True)
    differences = compare(manifest["tables"], restored)
    if differences:
        raise BackupError("restored data differs from the backup: " + "; ".join(differences))
    return manifest


def compare(expected: dict, actual: dict) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table), actual.get(table)
        if want is None or got is None:
            problems.append(f"{table}: {'missing' if got is None else 'unexpected'}")
        elif want["rows"] != got["rows"]:
            problems.append(f"{table}: {got['rows']} rows, expected {want['rows']}")
        elif want["sha256"] != got["sha256"]:
            problems.append(f"{table}: same row count, different content")
    return problems
