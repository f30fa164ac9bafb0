"""Backups that restore (PLT-5): `manage.py backup` and `manage.py restore` on the database the suite
runs on (SQLite: a file database in WAL mode, as in production; PostgreSQL: pg_dump / pg_restore).

The tests commit (transaction=True). On SQLite the default connection is pointed at a file copy of the
test database for the test's duration, because the in-memory test database can be neither copied by
another process nor replaced by a file."""

import datetime as dt
import io
import json
import sqlite3
import tarfile
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from kehu.core import backup
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_page

PICTURE = bytes(range(256)) * 40


def _file_wrapper(path: Path):
    original = connections["default"]
    return original.__class__({**original.settings_dict, "NAME": str(path)}, alias="default")


@pytest.fixture
def installation(transactional_db, tmp_path, settings):
    """MEDIA_ROOT under tmp_path; on SQLite the default database is a file in WAL mode."""
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.MEDIA_ROOT.mkdir(parents=True)
    if connection.vendor != "sqlite":
        yield None
        return
    original = connections["default"]
    path = tmp_path / "var" / "kehu.sqlite3"
    original.ensure_connection()
    target = sqlite3.connect(path)
    try:
        original.connection.backup(target)
    finally:
        target.close()
    wrapper = _file_wrapper(path)
    connections["default"] = wrapper
    try:
        yield path
    finally:
        wrapper.close()
        connections["default"] = original


def _found(user, q) -> set[str]:
    return {c.name for c in customer_page(user, CustomerFilters(q=q), offset=0, limit=100).rows}


def _backup(tmp_path, *args) -> Path:
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path / "backups"), *args, stdout=out)
    archives = sorted((tmp_path / "backups").glob("kehu-backup-*.tar"))
    assert len(archives) == 1, out.getvalue()
    assert "Backup written" in out.getvalue()
    return archives[0]


def _restore(archive: Path) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), "--yes", stdout=out)
    return out.getvalue()


def _company(team, customer_of):
    from kehu.activities.services import activity_log
    from kehu.customers.services import contact_create

    huaxing = customer_of(team.rep1, name="苏州华星精密机械有限公司", phone="13812345678")
    mingyuan = customer_of(team.rep1, name="杭州明远纺织有限公司", phone="0571-88001234")
    contact_create(customer=mingyuan, actor=team.rep1, name="王建国", mobile="13966667777")
    activity_log(customer=huaxing, actor=team.rep1, kind="call", subject="询问交期")
    activity_log(customer=mingyuan, actor=team.rep1, kind="visit", subject="拜访技术部")
    return huaxing, mingyuan


def test_a_restore_gives_back_the_data_the_files_and_the_search(installation, tmp_path, settings, team, customer_of):
    from kehu.activities.models import Activity
    from kehu.customers.services import contact_create, customer_update

    huaxing, mingyuan = _company(team, customer_of)
    picture = Path(settings.MEDIA_ROOT) / "products" / "华星-主轴.png"
    picture.parent.mkdir()
    picture.write_bytes(PICTURE)
    before = backup.table_checksums("default")
    assert before["customers_customer"]["rows"] == 2
    assert before["activities_activity"]["rows"] == Activity.objects.count() >= 2

    archive = _backup(tmp_path)

    manifest = backup.read_manifest(archive)[0]
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"] == before
    assert manifest["files"]["media/products/华星-主轴.png"]["size"] == len(PICTURE)
    assert "0001_initial" in manifest["migrations"]["customers"]
    # Everything changes after the backup: a rename, a new customer and contact, a lost activity and file.
    customer_update(customer=huaxing, actor=team.rep1, expected_version=huaxing.version, name="苏州瑞丰精工有限公司")
    contact_create(customer=customer_of(team.rep1, name="深圳新创电子有限公司"), actor=team.rep1, name="李娜")
    Activity.objects.filter(customer=mingyuan).delete()
    picture.unlink()
    (Path(settings.MEDIA_ROOT) / "later.txt").write_text("written after the backup")
    assert backup.table_checksums("default") != before

    output = _restore(archive)

    assert "Restored the backup" in output
    assert backup.table_checksums("default") == before
    assert picture.read_bytes() == PICTURE
    assert sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*")) == ["products", "华星-主轴.png"]
    assert _found(team.rep1, "华星") == {"苏州华星精密机械有限公司"}  # 2 characters
    assert _found(team.rep1, "精密机械") == {"苏州华星精密机械有限公司"}  # 3 and more
    assert _found(team.rep1, "王建国") == {"杭州明远纺织有限公司"}  # a contact
    assert _found(team.rep1, "瑞丰") == _found(team.rep1, "新创") == set()
    # The restored database takes new writes (sequences and search included).
    customer_of(team.rep1, name="宁波海天塑机有限公司")
    assert _found(team.rep1, "海天") == {"宁波海天塑机有限公司"}
    leftovers = [p.name for p in (tmp_path / "var").iterdir() if p.name.startswith(".kehu")]
    assert leftovers == []


def _rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of `archive` whose manifest `change` edits (with its checksum made right again)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for info in source:
            data = source.extractfile(info).read()
            if info.name == backup.MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                manifest["checksum"] = backup._manifest_checksum(manifest)
                data = json.dumps(manifest).encode()
                info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_changes(
    installation, tmp_path, settings, team, customer_of, monkeypatch
):
    _company(team, customer_of)
    (Path(settings.MEDIA_ROOT) / "logo.png").write_bytes(PICTURE)
    archive = _backup(tmp_path)
    customer_of(team.rep1, name="深圳新创电子有限公司")  # written after the backup
    (Path(settings.MEDIA_ROOT) / "logo.png").write_bytes(b"a newer logo")
    now = backup.table_checksums("default")

    with tarfile.open(archive) as tar:
        member = tar.getmember(backup.SQLITE_MEMBER if connection.vendor == "sqlite" else backup.POSTGRES_MEMBER)
    flipped = tmp_path / "flipped.tar"
    data = bytearray(archive.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0x01  # one byte of the database changed
    flipped.write_bytes(bytes(data))
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: member.offset_data + member.size // 2])
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    foreign = _rewrite(archive, tmp_path / "foreign.tar", lambda m: m.update(vendor=other))
    newer = _rewrite(archive, tmp_path / "newer.tar", lambda m: m["migrations"]["customers"].append("9999_future"))
    cases = {
        flipped: "is not a complete Kehu backup",
        truncated: "is not a complete Kehu backup",
        foreign: f"This backup is of a {other} database",
        newer: "comes from a newer version of Kehu (its schema has customers.9999_future",
    }
    for bad, message in cases.items():
        with pytest.raises(CommandError, match=message.replace("(", r"\(")):
            _restore(bad)
        assert backup.table_checksums("default") == now, bad.name
        assert (Path(settings.MEDIA_ROOT) / "logo.png").read_bytes() == b"a newer logo"
        assert _found(team.rep1, "新创") == {"深圳新创电子有限公司"}
    # A whole archive, but the operator answers no.
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    with pytest.raises(CommandError, match="Restore cancelled; nothing was changed."):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert backup.table_checksums("default") == now
    assert (Path(settings.MEDIA_ROOT) / "logo.png").read_bytes() == b"a newer logo"
    assert [p.name for p in (tmp_path / "var").iterdir() if p.name.startswith(".kehu")] == []


def test_a_backup_taken_while_customers_are_written_is_consistent(installation, tmp_path, settings, team):
    from kehu.customers.services import customer_create

    stop = threading.Event()
    written = []
    errors = []

    def writer():
        if installation is not None:
            connections["default"] = _file_wrapper(installation)
        try:
            while not stop.is_set():
                customer = customer_create(actor=team.rep1, name=f"并发写入客户{len(written):04d}")
                written.append(customer.pk)
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors.append(repr(exc))
        finally:
            connections["default"].close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5 and thread.is_alive():
            threading.Event().wait(0.01)
        archive = _backup(tmp_path, "--no-media")
        during = len(written)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    rows = backup.read_manifest(archive)[0]["tables"]["customers_customer"]["rows"]
    assert 5 <= rows <= during < len(written)  # the snapshot is a moment in the middle of the writing
    backup.verify_archive(archive)

    (Path(settings.MEDIA_ROOT) / "later.txt").write_text("kept")
    output = _restore(archive)  # compares every table's checksum with the manifest

    assert "Restored the backup" in output
    assert "The backup holds no uploaded files" in output
    assert (Path(settings.MEDIA_ROOT) / "later.txt").read_text() == "kept"  # --no-media: files left alone
    assert Customer.objects.count() == rows
    assert _found(team.rep1, "并发写入客户0004") == {"并发写入客户0004"}


def test_table_checksums_read_values_the_same_way_whatever_the_database_hands_back():
    aware = dt.datetime(2026, 1, 31, 16, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert backup._datetime("2026-01-31 08:00:00.000005") == backup._datetime(aware) == "2026-01-31 08:00:00.000005"
    assert backup._datetime("2026-01-31T08:00:00+00:00") == "2026-01-31 08:00:00"
    assert backup._decimal(1.5) == backup._decimal(Decimal("1.50")) == backup._decimal("1.5") == "1.5"
    assert backup._decimal(100) == backup._decimal(Decimal("100.00")) == "100"
    assert backup._json('{"b": 1, "a": [1, {"y": 2, "x": "华"}]}') == backup._json(
        {"a": [1, {"x": "华", "y": 2}], "b": 1}
    )
    u = uuid.uuid4()
    assert backup._uuid(u) == backup._uuid(u.hex) == backup._uuid(str(u))
    assert backup._duration(dt.timedelta(days=1, microseconds=3)) == backup._duration(86_400_000_003)
    assert backup._date_or_time(dt.date(2026, 1, 31)) == backup._date_or_time("2026-01-31")
