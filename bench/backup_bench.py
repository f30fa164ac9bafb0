"""Backup and restore benchmark (PLT-5): `manage.py backup` and `manage.py restore` of the 1M-customer
bench database.

    .venv/bin/python bench/backup_bench.py                       # var/bench/customers-1000000.sqlite3
    .venv/bin/python bench/backup_bench.py --source var/bench/customers-20000.sqlite3
    .venv/bin/python bench/backup_bench.py --copy                # copy the source to --work first

Runs the commands' own code (kehu/core/backup.py) in this process. The backup reads the source
database read-only in place (SQLite's `immutable` mode, nothing is written next to it; its
write-ahead log must be empty), unless --copy copies it under --work first (which needs the disk
space of another copy). The archive goes to <work>/backups/, and the restore puts it into a fresh
installation under <work>/var/ (a new database file and media directory), then compares every
table's checksum with the manifest, as the command does. Prints sizes and seconds; --keep leaves
<work> in place.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT / "var" / "bench" / "customers-1000000.sqlite3")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kehu-backup-bench"))
    parser.add_argument("--copy", action="store_true", help="copy the source under --work and back up the copy")
    parser.add_argument("--keep", action="store_true", help="leave the archive and the restored copy")
    args = parser.parse_args()
    source = args.source.resolve()
    if not source.is_file():
        sys.exit(f"{source} does not exist (make bench creates it)")
    wal = Path(f"{source}-wal")
    if not args.copy and wal.exists() and wal.stat().st_size:
        sys.exit(f"{wal} is not empty: use --copy, or checkpoint the database first")
    shutil.rmtree(args.work, ignore_errors=True)
    var = args.work / "var"
    media = var / "media"
    (media / "products").mkdir(parents=True)
    for i in range(20):  # a few uploaded files, as an installation has
        (media / "products" / f"picture-{i}.jpg").write_bytes(os.urandom(200_000))
    os.environ["KEHU_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = f"sqlite:///{var / 'kehu.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import translation

    from kehu.core.backup import create_backup, restore_backup

    translation.activate("en")
    if args.copy:
        t0 = time.monotonic()
        copied = args.work / source.name
        shutil.copyfile(source, copied)
        print(f"copied the source in {time.monotonic() - t0:.1f} s")
        uri = str(copied)
    else:
        uri = f"file:{source}?immutable=1"

    def say(message):
        print(f"  {message}", flush=True)

    try:
        size = source.stat().st_size
        print(f"backup of {source} ({size / 2**30:.2f} GiB)")
        backup = create_backup(output_dir=args.work / "backups", media_root=media, progress=say, sqlite_source=uri)
        if args.copy:
            Path(uri).unlink()
        shutil.rmtree(media)
        print("restore into a new installation")
        restored = restore_backup(backup.path, media_root=media, progress=say)
        db = var / "kehu.sqlite3"
        rows = sum(t["rows"] for t in backup.manifest["tables"].values())
        print()
        print("| | figure |")
        print("| --- | --- |")
        print(f"| database | {size / 2**30:.2f} GiB, {rows:,} rows in {len(backup.manifest['tables'])} tables |")
        print(f"| archive | {backup.size / 2**30:.2f} GiB ({backup.size / size:.0%}) |")
        print(f"| `backup` | {backup.seconds:.0f} s |")
        print(f"| `restore` (check, unpack, replace, compare checksums) | {restored.seconds:.0f} s |")
        print(f"| restored database | {db.stat().st_size / 2**30:.2f} GiB, all table checksums equal |")
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
