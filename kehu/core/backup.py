"""Backups that restore (PLT-5): one tar archive holding the database, the uploaded files and a manifest.

Archive members, in this order:

- ``database.sqlite3.gz`` (SQLite: a copy made with SQLite's online backup API, gzip-compressed) or
  ``database.pgdump`` (PostgreSQL: ``pg_dump -Fc``, taken in the snapshot the checksums were computed in);
- ``media/<path>`` for every uploaded file under ``MEDIA_ROOT`` (unless left out);
- ``manifest.json``: format, Kehu version, database vendor, creation time, the applied migrations per app,
  the SHA-256 and size of every other member, and per model table its row count and a checksum of its
  rows in primary-key order.

The table checksum is vendor-neutral: rows are read through the ORM (so each value arrives as the same
Python type on SQLite and PostgreSQL), each value is written in one canonical form (times in UTC,
decimals normalised, JSON with sorted keys), and the rows are hashed in primary-key order. The same
data gives the same figure on both databases.

A backup is written under a temporary name and renamed when complete, so a file named
``kehu-backup-….tar`` is always whole. A restore reads the manifest, checks the vendor and the schema,
unpacks every member into a staging area next to its destination while checking its SHA-256, and only
then replaces the database and the media directory; afterwards it computes the table checksums again
and compares them with the manifest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3.gz"
POSTGRES_MEMBER = "database.pgdump"
MEDIA_PREFIX = "media/"
CHUNK = 1 << 20
INTEGER_KEYS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in the operator's language."""


def _quiet(message: str) -> None:
    pass


def kehu_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kehu")
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text())["project"]["version"]
        except (OSError, KeyError, ValueError):
            return "unknown"


def human_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


# --- table checksums --------------------------------------------------------------------------------


_DECIMAL_CONTEXT = decimal.Context(prec=15)


def _decimal(value) -> str:
    if isinstance(value, float):  # SQLite may hand back a REAL, as Django's own converter expects
        value = _DECIMAL_CONTEXT.create_decimal_from_float(value)
    elif not isinstance(value, decimal.Decimal):
        value = decimal.Decimal(str(value))
    return format(value.normalize(), "f")


def _datetime(value) -> str:
    if isinstance(value, str):  # SQLite: Django writes UTC as text, "2026-01-31 08:00:00[.000001]"
        if len(value) in (19, 26) and value[10] == " ":
            return value
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return str(value)


def _date_or_time(value) -> str:
    if isinstance(value, str):
        return value
    return value.isoformat()


def _json(value) -> str:
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _uuid(value) -> str:
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex


def _duration(value) -> int:
    if isinstance(value, dt.timedelta):
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    return int(value)


def _binary(value) -> str:
    return bytes(value).hex()


# How each kind of column is written before hashing, so that SQLite's and PostgreSQL's answers for the
# same data give the same text (SQLite hands back text, integers and floats; psycopg typed objects).
_CANONICAL = {
    "DateTimeField": _datetime,
    "DateField": _date_or_time,
    "TimeField": _date_or_time,
    "DecimalField": _decimal,
    "JSONField": _json,
    "UUIDField": _uuid,
    "DurationField": _duration,
    "BinaryField": _binary,
    "BooleanField": bool,
    "NullBooleanField": bool,
    "GenericIPAddressField": str,
    "IPAddressField": str,
    "FloatField": float,
}
_PLAIN = INTEGER_KEYS | {"CharField", "TextField", "EmailField", "SlugField", "URLField", "FileField", "ImageField"}
_PLAIN |= {"FilePathField", "ForeignKey", "OneToOneField"}


def _converter(field):
    kind = field.get_internal_type()
    if kind in ("ForeignKey", "OneToOneField"):
        kind = field.target_field.get_internal_type()
        if kind in ("AutoField", "BigAutoField", "SmallAutoField"):
            kind = "IntegerField"
    if kind in _CANONICAL:
        return _CANONICAL[kind]
    if kind in _PLAIN:
        return None
    return str  # any other kind: its text form


def _encode_rows(cursor, converters) -> Iterator[bytes]:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    pending = [(i, fn) for i, fn in enumerate(converters) if fn is not None]
    while rows := cursor.fetchmany(5000):
        for row in rows:
            if pending:
                row = list(row)
                for i, fn in pending:
                    if row[i] is not None:
                        row[i] = fn(row[i])
            yield dumps(row).encode()


def _row_bytes(value) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


class _Reader:
    """Reads a database for the checksums: Django's connection on PostgreSQL (inside the caller's
    transaction, so inside pg_dump's snapshot); on SQLite a plain read-only sqlite3 connection to a
    file (the backup's copy, or the restored database), without Django's converters, which cost more
    than the hashing."""

    def __init__(self, using: str, sqlite_path: str | Path | None = None):
        self.connection = connections[using]
        self.quote = self.connection.ops.quote_name
        self.raw = None
        if self.connection.vendor == "sqlite":
            path = sqlite_path or _sqlite_path(using)
            self.raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)

    def close(self):
        if self.raw is not None:
            self.raw.close()

    def cursor(self, chunked: bool = False):
        if self.raw is not None:
            return contextlib.closing(self.raw.cursor())
        return self.connection.chunked_cursor() if chunked else self.connection.cursor()

    def table_names(self) -> set[str]:
        if self.raw is not None:
            return {row[0] for row in self.raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        with self.connection.cursor() as cursor:
            return set(self.connection.introspection.table_names(cursor))

    def columns(self, table: str) -> list[str]:
        with self.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {self.quote(table)} WHERE 1 = 0")  # noqa: S608 - a table name
            return [column[0] for column in cursor.description]


def model_tables(reader: _Reader) -> dict[str, type]:
    """The model of every table of Kehu present in the database, by table name (sorted)."""
    existing = reader.table_names()
    found: dict[str, type] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped or meta.db_table not in existing:
            continue
        found.setdefault(meta.db_table, model)
    migration = MigrationRecorder.Migration
    if migration._meta.db_table in existing:
        found.setdefault(migration._meta.db_table, migration)
    return dict(sorted(found.items()))


def table_checksum(reader: _Reader, model, columns: list[str] | None = None) -> dict:
    """Row count and SHA-256 of one table's rows in primary-key order, over `columns` (default: every
    column of the model that the table has)."""
    meta = model._meta
    present = set(reader.columns(meta.db_table))
    fields = [f for f in meta.concrete_fields if f.column in present]
    if columns is not None:
        by_column = {f.column: f for f in fields}
        missing = [c for c in columns if c not in by_column]
        if missing:
            raise BackupError(
                _("Table %(table)s has no column %(columns)s.")
                % {"table": meta.db_table, "columns": ", ".join(missing)}
            )
        fields = [by_column[c] for c in columns]
    quote = reader.quote
    converters = [_converter(f) for f in fields]
    digest = hashlib.sha256()
    count = 0
    pk_fields = [f for f in fields if f.primary_key]
    integer_key = len(pk_fields) == 1 and pk_fields[0].get_internal_type() in INTEGER_KEYS
    sql = f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(meta.db_table)}"  # noqa: S608
    if integer_key:
        # Integers sort the same everywhere: let the database order them, and stream.
        sql += f" ORDER BY {quote(pk_fields[0].column)}"
    with reader.cursor(chunked=True) as cursor:
        cursor.execute(sql)
        encoded = _encode_rows(cursor, converters)
        if not integer_key:
            # Text keys sort by collation, which differs between databases: sort here, by code point.
            encoded = iter(sorted(encoded))
        for line in encoded:
            digest.update(line)
            digest.update(b"\n")
            count += 1
    return {"rows": count, "sha256": digest.hexdigest(), "columns": [f.column for f in fields]}


def table_checksums(
    using: str, progress: Progress = _quiet, expected: dict | None = None, sqlite_path: str | Path | None = None
) -> dict[str, dict]:
    """Checksums of every model table (or of the tables and columns in `expected`, a manifest's)."""
    started = time.monotonic()
    reader = _Reader(using, sqlite_path)
    result: dict[str, dict] = {}
    try:
        tables = model_tables(reader)
        for table in list(expected) if expected is not None else list(tables):
            model = tables.get(table)
            if model is None:
                result[table] = {"rows": None, "sha256": None, "columns": []}
                continue
            t0 = time.monotonic()
            result[table] = table_checksum(reader, model, expected[table].get("columns") if expected else None)
            seconds = time.monotonic() - t0
            if seconds >= 2:
                progress(
                    _("  %(table)s: %(rows)s rows in %(seconds).0f s")
                    % {"table": table, "rows": f"{result[table]['rows']:,}", "seconds": seconds}
                )
    finally:
        reader.close()
    total = sum(r["rows"] or 0 for r in result.values())
    progress(
        _("Checksums of %(tables)d tables (%(rows)s rows) in %(seconds).1f s.")
        % {"tables": len(result), "rows": f"{total:,}", "seconds": time.monotonic() - started}
    )
    return result


def migration_state(using: str, sqlite_path: str | Path | None = None) -> dict[str, list[str]]:
    reader = _Reader(using, sqlite_path)
    try:
        if "django_migrations" not in reader.table_names():
            return {}
        with reader.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            rows = cursor.fetchall()
    finally:
        reader.close()
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def unknown_migrations(state: dict[str, list[str]]) -> list[str]:
    """Applied migrations in `state` that this version of Kehu does not have (the archive is newer)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, names in state.items() for name in names if (app, name) not in known]


# --- files ------------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class _HashingReader:
    """Reads from a file while hashing what was read."""

    def __init__(self, f):
        self.f = f
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.f.read(size)
        self.digest.update(data)
        return data


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def media_files(media_root: Path) -> list[tuple[str, Path]]:
    if not media_root.is_dir():
        return []
    found = []
    for directory, dirs, files in os.walk(media_root):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                found.append((path.relative_to(media_root).as_posix(), path))
    return found


def _safe_media_name(member: str) -> str | None:
    """The path under MEDIA_ROOT a media member names, or None if it could escape it."""
    if not member.startswith(MEDIA_PREFIX):
        return None
    rel = PurePosixPath(member[len(MEDIA_PREFIX) :])
    if rel.is_absolute() or not rel.parts or any(part in ("", ".", "..") for part in rel.parts) or "\\" in member:
        return None
    return rel.as_posix()


# --- backup -----------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    manifest: dict


def _sqlite_path(using: str) -> str:
    name = str(connections[using].settings_dict["NAME"])
    if connections[using].is_in_memory_db():
        raise BackupError(_("An in-memory SQLite database cannot be backed up or restored."))
    return name


def _pg_env(settings_dict: dict) -> tuple[list[str], dict]:
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return args, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(_("%(tool)s was not found; install the PostgreSQL client.") % {"tool": name})
    return found


def create_backup(
    *,
    output_dir: Path,
    media_root: Path,
    using: str = "default",
    include_media: bool = True,
    progress: Progress = _quiet,
    sqlite_source: str | None = None,
) -> BackupResult:
    """Write one archive into `output_dir` and return it. `sqlite_source` (a path or `file:` URI) reads
    the SQLite database from elsewhere than the connection's file (the bench reads its data in place)."""
    started = time.monotonic()
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor})
    output_dir.mkdir(parents=True, exist_ok=True)
    created = timezone.now()
    name = f"kehu-backup-{created.astimezone(dt.UTC).strftime('%Y%m%d-%H%M%S')}.tar"
    final = output_dir / name
    if final.exists():
        name = f"kehu-backup-{created.astimezone(dt.UTC).strftime('%Y%m%d-%H%M%S-%f')}.tar"
        final = output_dir / name
    partial = output_dir / f".{name}.partial"
    work = Path(tempfile.mkdtemp(prefix=".kehu-backup-", dir=output_dir))
    try:
        if vendor == "sqlite":
            member, db_file, tables, migrations = _sqlite_dump(using, work, progress, sqlite_source)
        else:
            member, db_file, tables, migrations = _postgres_dump(using, work, progress)
        files = {member: {"sha256": _sha256_file(db_file), "size": db_file.stat().st_size}}
        media = media_files(media_root) if include_media else []
        if include_media:
            progress(_("Adding %(count)d uploaded files…") % {"count": len(media)})
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            archive.add(db_file, arcname=member, recursive=False)
            db_file.unlink()
            for rel, path in media:
                info = archive.gettarinfo(path, arcname=MEDIA_PREFIX + rel)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with open(path, "rb") as f:
                    reader = _HashingReader(f)
                    archive.addfile(info, reader)
                files[MEDIA_PREFIX + rel] = {"sha256": reader.digest.hexdigest(), "size": info.size}
            manifest = {
                "format": FORMAT,
                "kehu_version": kehu_version(),
                "vendor": vendor,
                "created_at": created.astimezone(dt.UTC).isoformat(),
                "database": member,
                "media": include_media,
                "migrations": migrations,
                "files": files,
                "tables": tables,
            }
            manifest["checksum"] = _manifest_checksum(manifest)
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
        with open(partial, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(partial, final)
        _fsync_dir(output_dir)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(final, final.stat().st_size, time.monotonic() - started, manifest)


def _sqlite_dump(using: str, work: Path, progress: Progress, source: str | None):
    source = source or _sqlite_path(using)
    snapshot = work / "snapshot.sqlite3"
    t0 = time.monotonic()
    progress(_("Copying the database (SQLite online backup)…"))
    src = sqlite3.connect(source, uri=source.startswith("file:"), timeout=20)
    try:
        dst = sqlite3.connect(snapshot)
        try:
            # One step: the copy is a single read transaction, consistent however the others write (WAL).
            src.backup(dst, pages=-1)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(_("The database could not be copied: %(error)s") % {"error": exc}) from exc
    finally:
        src.close()
    progress(
        _("Copied %(size)s in %(seconds).1f s.")
        % {"size": human_size(snapshot.stat().st_size), "seconds": time.monotonic() - t0}
    )
    # The compression (zlib works without the GIL) runs beside the checksums: both only read the copy.
    t0 = time.monotonic()
    progress(_("Compressing the database…"))
    compressed = work / SQLITE_MEMBER
    failed: list[BaseException] = []

    def compress():
        try:
            with open(snapshot, "rb") as f, gzip.open(compressed, "wb", compresslevel=1) as out:
                shutil.copyfileobj(f, out, CHUNK)
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            failed.append(exc)

    compressing = threading.Thread(target=compress, name="kehu-backup-gzip", daemon=True)
    compressing.start()
    try:
        migrations = migration_state(using, snapshot)
        tables = table_checksums(using, progress, sqlite_path=snapshot)
    finally:
        compressing.join()
    if failed:
        raise failed[0]
    snapshot.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{snapshot}{suffix}").unlink(missing_ok=True)
    progress(
        _("Compressed to %(size)s in %(seconds).1f s.")
        % {"size": human_size(compressed.stat().st_size), "seconds": time.monotonic() - t0}
    )
    return SQLITE_MEMBER, compressed, tables, migrations


def _postgres_dump(using: str, work: Path, progress: Progress):
    connection = connections[using]
    settings_dict = connection.settings_dict
    dump = work / POSTGRES_MEMBER
    args, env = _pg_env(settings_dict)
    pg_dump = _pg_tool("pg_dump")
    progress(_("Dumping the database (pg_dump)…"))
    t0 = time.monotonic()
    if connection.in_atomic_block:
        raise BackupError(_("A backup cannot run inside a transaction."))
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            # pg_dump and the checksums read the same snapshot: they describe the same data.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
        command = [
            pg_dump,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot_id}",
            f"--file={dump}",
            *args,
            "--dbname",
            str(settings_dict["NAME"]),
        ]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
        try:
            migrations = migration_state(using)
            tables = table_checksums(using, progress)
        finally:
            _out, err = process.communicate()
    if process.returncode != 0:
        raise BackupError(
            _("pg_dump failed (exit code %(code)d): %(error)s")
            % {"code": process.returncode, "error": err.decode(errors="replace").strip()}
        )
    progress(
        _("Dumped %(size)s in %(seconds).1f s.")
        % {"size": human_size(dump.stat().st_size), "seconds": time.monotonic() - t0}
    )
    return POSTGRES_MEMBER, dump, tables, migrations


def _manifest_checksum(manifest: dict) -> str:
    """SHA-256 of the manifest's content without this checksum (the manifest guards itself too)."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(_row_bytes(body)).hexdigest()


# --- reading and verifying an archive ---------------------------------------------------------------


def _corrupt(archive: Path, why: str) -> BackupError:
    return BackupError(
        _("%(archive)s is not a complete Kehu backup (%(why)s); nothing was changed.")
        % {"archive": archive.name, "why": why}
    )


def read_manifest(archive: Path) -> tuple[dict, dict[str, tarfile.TarInfo]]:
    """The manifest and the members of an archive, checked for shape (not yet for content)."""
    try:
        with tarfile.open(archive, "r:") as tar:
            members = {}
            for info in tar:
                if info.name in members:
                    raise _corrupt(archive, _("member %(name)s appears twice") % {"name": info.name})
                members[info.name] = info
            if MANIFEST not in members:
                raise _corrupt(archive, _("no manifest"))
            f = tar.extractfile(members[MANIFEST])
            manifest = json.loads(f.read()) if f else None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise BackupError(_("%(archive)s does not exist.") % {"archive": archive}) from exc
        raise _corrupt(archive, str(exc) or exc.__class__.__name__) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise _corrupt(archive, _("the manifest is unreadable"))
    if manifest.get("checksum") != _manifest_checksum(manifest):
        raise _corrupt(archive, _("the manifest fails its checksum"))
    if manifest.get("format", 0) > FORMAT:
        raise BackupError(
            _("%(archive)s was written by a newer Kehu (archive format %(format)s); upgrade Kehu first.")
            % {"archive": archive.name, "format": manifest.get("format")}
        )
    listed = set(manifest["files"]) | {MANIFEST}
    if set(members) != listed:
        extra = sorted(set(members) - listed)
        missing = sorted(listed - set(members))
        raise _corrupt(
            archive,
            _("members differ from the manifest: missing %(missing)s, unexpected %(extra)s")
            % {"missing": ", ".join(missing[:5]) or "-", "extra": ", ".join(extra[:5]) or "-"},
        )
    for name, info in members.items():
        if name == MANIFEST:
            continue
        if not info.isfile():
            raise _corrupt(archive, _("member %(name)s is not a file") % {"name": name})
        if name != manifest.get("database") and _safe_media_name(name) is None:
            raise _corrupt(archive, _("member %(name)s has an unsafe name") % {"name": name})
        if info.size != manifest["files"][name].get("size"):
            raise _corrupt(archive, _("member %(name)s has the wrong size") % {"name": name})
    if manifest.get("database") not in manifest["files"]:
        raise _corrupt(archive, _("no database"))
    return manifest, members


def check_compatible(manifest: dict, using: str) -> None:
    vendor = connections[using].vendor
    if manifest.get("vendor") != vendor:
        raise BackupError(
            _(
                "This backup is of a %(archive)s database, but Kehu is configured for %(current)s; "
                "restore it onto the same kind of database. Nothing was changed."
            )
            % {"archive": manifest.get("vendor"), "current": vendor}
        )
    unknown = unknown_migrations(manifest.get("migrations") or {})
    if unknown:
        raise BackupError(
            _(
                "This backup comes from a newer version of Kehu (its schema has %(migrations)s, which this "
                "version does not know). Upgrade Kehu, then restore. Nothing was changed."
            )
            % {"migrations": ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")}
        )


def verify_archive(archive: Path, progress: Progress = _quiet) -> dict:
    """Check every member of an archive against the manifest's SHA-256; return the manifest."""
    manifest, members = read_manifest(archive)
    with tarfile.open(archive, "r:") as tar:
        for name, info in members.items():
            if name == MANIFEST:
                continue
            _copy_member(archive, tar, info, manifest, None)
    return manifest


def _copy_member(archive: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, manifest: dict, target: Path | None):
    """Read one member (into `target`, gunzipped if it is the SQLite database) checking its SHA-256."""
    digest = hashlib.sha256()
    try:
        source = tar.extractfile(info)
        if source is None:
            raise _corrupt(archive, _("member %(name)s is not a file") % {"name": info.name})
        reader = _HashingReader(source)
        if target is None:
            while reader.read(CHUNK):
                pass
        elif info.name == SQLITE_MEMBER:
            with gzip.GzipFile(fileobj=reader, mode="rb") as unzipped, open(target, "wb") as out:
                shutil.copyfileobj(unzipped, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
        else:
            with open(target, "wb") as out:
                while block := reader.read(CHUNK):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        while reader.read(CHUNK):  # the gzip reader may stop before the member's last bytes
            pass
        digest = reader.digest
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _corrupt(archive, _("member %(name)s: %(error)s") % {"name": info.name, "error": exc}) from exc
    if digest.hexdigest() != manifest["files"][info.name]["sha256"]:
        raise _corrupt(archive, _("member %(name)s fails its checksum") % {"name": info.name})


# --- restore ----------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict
    seconds: float
    media_files: int


def restore_backup(
    archive: Path,
    *,
    media_root: Path,
    using: str = "default",
    progress: Progress = _quiet,
    confirm: Callable[[dict], bool] = lambda manifest: True,
) -> RestoreResult:
    """Verify `archive`, ask `confirm`, replace the database and the media files, check the result."""
    started = time.monotonic()
    connection = connections[using]
    manifest, members = read_manifest(archive)
    check_compatible(manifest, using)
    progress(
        _("Backup of %(created)s (Kehu %(version)s, %(vendor)s): %(files)d files.")
        % {
            "created": manifest.get("created_at"),
            "version": manifest.get("kehu_version"),
            "vendor": manifest.get("vendor"),
            "files": len(members) - 1,
        }
    )
    if connection.vendor == "sqlite":
        db_path = Path(_sqlite_path(using))
        db_stage_dir = db_path.parent
    else:
        db_path = None
        db_stage_dir = media_root.parent
    db_stage_dir.mkdir(parents=True, exist_ok=True)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".kehu-restore-", dir=db_stage_dir))
    media_stage = Path(tempfile.mkdtemp(prefix=".kehu-restore-media-", dir=media_root.parent))
    old_media = None
    try:
        t0 = time.monotonic()
        progress(_("Checking and unpacking the archive…"))
        staged_db = stage / ("kehu.sqlite3" if connection.vendor == "sqlite" else POSTGRES_MEMBER)
        media_count = 0
        with tarfile.open(archive, "r:") as tar:
            for name, info in members.items():
                if name == MANIFEST:
                    continue
                if name == manifest["database"]:
                    target = staged_db
                else:
                    target = media_stage / _safe_media_name(name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    media_count += 1
                _copy_member(archive, tar, info, manifest, target)
        progress(_("The archive is whole (%(seconds).1f s).") % {"seconds": time.monotonic() - t0})
        if not confirm(manifest):
            raise BackupError(_("Restore cancelled; nothing was changed."))
        t0 = time.monotonic()
        if connection.vendor == "sqlite":
            _sqlite_replace(using, db_path, staged_db, progress)
        else:
            _postgres_restore(using, staged_db, progress)
        progress(_("Database restored in %(seconds).1f s.") % {"seconds": time.monotonic() - t0})
        if manifest.get("media"):
            if media_root.exists():
                old_media = media_root.parent / f".kehu-media-old-{uuid.uuid4().hex[:8]}"
                os.replace(media_root, old_media)
            try:
                os.replace(media_stage, media_root)
            except OSError:
                if old_media is not None:  # put the files back as they were
                    os.replace(old_media, media_root)
                    old_media = None
                raise
            _fsync_dir(media_root.parent)
            progress(_("%(count)d uploaded files restored.") % {"count": media_count})
        else:
            progress(_("The backup holds no uploaded files; %(path)s was left as it is.") % {"path": media_root})
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(media_stage, ignore_errors=True)
        if old_media is not None:
            shutil.rmtree(old_media, ignore_errors=True)
    progress(_("Comparing the restored tables with the backup…"))
    tables = manifest.get("tables") or {}
    found = table_checksums(using, progress, expected=tables)
    wrong = [t for t in tables if (found[t]["rows"], found[t]["sha256"]) != (tables[t]["rows"], tables[t]["sha256"])]
    if wrong:
        raise BackupError(
            _("The restored database differs from the backup in %(count)d tables: %(tables)s.")
            % {"count": len(wrong), "tables": ", ".join(wrong[:10])}
        )
    if connection.vendor == "sqlite":
        _sqlite_check_search(using, progress)
    return RestoreResult(manifest, time.monotonic() - started, media_count)


def _sqlite_replace(using: str, db_path: Path, staged: Path, progress: Progress) -> None:
    connections[using].close()
    check = sqlite3.connect(staged)
    try:
        ok = check.execute("PRAGMA quick_check(1)").fetchone()[0] if staged.stat().st_size < (1 << 30) else "ok"
    finally:
        check.close()
    if ok != "ok":
        raise BackupError(_("The database in the backup is damaged: %(error)s") % {"error": ok})
    if db_path.exists():
        live = sqlite3.connect(db_path, timeout=5)
        try:
            busy = live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            busy = 1
        finally:
            live.close()
        if busy:
            raise BackupError(
                _("The database is in use; stop the web and worker processes, then restore. Nothing was changed.")
            )
    # The write-ahead log is empty now (or absent): replacing the file leaves nothing of the old one.
    os.replace(staged, db_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    _fsync_dir(db_path.parent)


def _postgres_restore(using: str, staged: Path, progress: Progress) -> None:
    connection = connections[using]
    settings_dict = connection.settings_dict
    connection.close()
    args, env = _pg_env(settings_dict)
    progress(_("Restoring the database (pg_restore, one transaction)…"))
    result = subprocess.run(  # noqa: S603
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            *args,
            "--dbname",
            str(settings_dict["NAME"]),
            str(staged),
        ],
        env=env,
        capture_output=True,
    )
    if result.returncode != 0:
        raise BackupError(
            _("pg_restore failed (exit code %(code)d); the database was left as it was: %(error)s")
            % {"code": result.returncode, "error": result.stderr.decode(errors="replace").strip()[-2000:]}
        )


def _sqlite_check_search(using: str, progress: Progress) -> None:
    """The full-text tables (the customer search) came back whole: FTS5's own integrity check."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%%USING fts5%%'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            try:
                cursor.execute(f'INSERT INTO "{table}"("{table}") VALUES (\'integrity-check\')')
            except Exception as exc:
                raise BackupError(
                    _("The search table %(table)s is damaged: %(error)s") % {"table": table, "error": exc}
                ) from exc
    if tables:
        progress(_("Search tables checked: %(tables)s.") % {"tables": ", ".join(tables)})
