"""Import benchmark (INT-1): 100,000 customers with a contact each, from CSV, .xlsx and .xls
(which holds at most 65,535 rows under its header: that many), into SQLite — upload, preview
(read, look at the picklist values, clean, match duplicates, stage) and run, timed apart.
Workbooks are read by python-calamine; the mobiles are typed as numbers, as in real lists.

    .venv/bin/python bench/import_bench.py                 # 100k rows, CSV, xlsx and xls
    .venv/bin/python bench/import_bench.py --rows 20000 --formats csv

Uses its own database under var/bench-import/ (recreated on every run; the laptop database is
untouched) that already holds --existing customers, so duplicate matching has something to find.
Prints a Markdown table and writes it to bench/results/import-latest.md.
"""

import argparse
import os
import platform
import random
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-import"
RESULTS = ROOT / "bench" / "results"

CITIES = [("浙江", "杭州"), ("江苏", "苏州"), ("浙江", "宁波"), ("江苏", "无锡"), ("上海", "上海"), ("安徽", "合肥")]
WORDS = "华星 锦程 东港 恒力 申达 天润 新锐 海瑞 中科 宏达 金盛 瑞丰 鼎新 长城 腾飞 永泰 汇通 联创 博远 精工".split()
TRADES = [
    ("精密机械", "机械设备"),
    ("电子科技", "电子电器"),
    ("化工", "化工"),
    ("汽车零部件", "汽车及零部件"),
    ("国际物流", "物流"),
    ("纺织", "纺织服装"),
    ("建材", "建材"),
]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
HEADERS = ["客户名称", "联系人", "职务", "手机", "邮箱", "电话", "地区", "城市", "地址", "行业", "备注"]


def make_rows(n: int, seed: int = 7) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        region, city = rnd.choice(CITIES)
        trade, industry = rnd.choice(TRADES)
        name = f"{city}{rnd.choice(WORDS)}{rnd.choice(WORDS)}{trade}有限公司{i:06d}"
        person = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
        rows.append(
            [
                name,
                person,
                rnd.choice(["采购经理", "总经理", "技术总监", "设备科长"]),
                f"13{rnd.randint(0, 9)}{i:08d}",
                f"buyer{i}@example{i % 97}.cn",
                f"0571-{8000_0000 + i}",
                region,
                city,
                f"{city}市工业园区{rnd.randint(1, 300)}号",
                industry,
                "展会名片",
            ]
        )
    return rows


def write_csv(path: Path, rows) -> None:
    import csv

    with open(path, "w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerows(rows)


def write_xlsx(path: Path, rows) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([*row[:3], int(row[3]), *row[4:]])  # the mobile typed as a number
    workbook.save(path)


XLS_MAX_ROWS = 65_535  # an .xls sheet has 65,536 rows, one of them the header


def write_xls(path: Path, rows) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("客户")
    for c, header in enumerate(HEADERS):
        sheet.write(0, c, header)
    for r, row in enumerate(rows[:XLS_MAX_ROWS], start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, int(value) if c == 3 else value)
    book.save(str(path))


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "xls": write_xls}


def setup_django(db: Path):
    os.environ["KEHU_VAR_DIR"] = str(VAR)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import override_settings

    # Through override_settings: the task backends are read once at start-up and reset by its signal.
    override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}).enable()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.KEHU_IMPORT_MAX_ROWS = 1_000_000
    settings.KEHU_IMPORT_MAX_BYTES = 500 * 1024 * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=20_000, help="customers already in the database")
    parser.add_argument("--formats", default="csv,xlsx,xls")
    args = parser.parse_args()

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    db = VAR / "import.sqlite3"
    setup_django(db)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kehu.customers.models import Contact, Customer, TimelineEntry
    from kehu.integrations.models import ImportJob, ImportStatus
    from kehu.integrations.services import import_job_create, import_job_set_mapping, import_job_start
    from kehu.users.models import User
    from kehu.users.roles import Role

    rep = User.objects.create_user("rep1", password="kehu-bench", role=Role.SALES_REP)
    rows = make_rows(args.rows + args.existing)
    existing, rows = rows[args.rows :], rows[: args.rows]
    # One row in a hundred is a customer the database already has (another spelling of the name).
    for i in range(0, len(rows), 100):
        if existing:
            rows[i][0] = existing[i % len(existing)][0].replace("有限公司", "（有限公司）")
    # Customers already in the database, imported the same way (not timed), so matching has work.
    results = []
    seed_path = VAR / "existing.csv"
    write_csv(seed_path, existing)

    def run(path: Path, label: str):
        data = path.read_bytes()
        c0 = time.process_time()
        t0 = time.perf_counter()
        job = import_job_create(actor=rep, uploaded=SimpleUploadedFile(path.name, data))
        t1 = time.perf_counter()
        import_job_set_mapping(job=job, actor=rep, mapping=job.mapping)  # the preview runs here (immediate tasks)
        t2 = time.perf_counter()
        job = ImportJob.objects.get(pk=job.pk)
        assert job.status == ImportStatus.PREVIEW, (job.status, job.error)
        import_job_start(job=job, actor=rep)
        t3 = time.perf_counter()
        job = ImportJob.objects.get(pk=job.pk)
        assert job.status == ImportStatus.DONE, (job.status, job.error)
        return job, (t1 - t0, t2 - t1, t3 - t2, time.process_time() - c0)

    if existing:
        run(seed_path, "existing")
    for fmt in args.formats.split(","):
        path = VAR / f"customers-{args.rows}.{fmt}"
        WRITERS[fmt](path, rows)
        count = min(len(rows), XLS_MAX_ROWS) if fmt == "xls" else len(rows)
        before = Customer.objects.count()
        job, (upload, preview, apply, cpu) = run(path, fmt)
        created = Customer.objects.count() - before
        assert created == count - job.report.get("duplicates", 0), (fmt, created, count, job.report)
        results.append((fmt, count, path.stat().st_size, cpu, upload, preview, apply, job.report, created))
        # The second format imports the same customers again: clear them so both runs create.
        if fmt != args.formats.split(",")[-1]:
            ids = list(Customer.objects.filter(created_at__gte=job.created_at).values_list("pk", flat=True))
            from django.db import connection

            with connection.cursor() as cursor:
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    marks = ",".join("%s" for _ in chunk)
                    cursor.execute(f"DELETE FROM customer_search_tri WHERE rowid IN ({marks})", chunk)
                    cursor.execute(f"DELETE FROM customer_search_bi WHERE rowid IN ({marks})", chunk)
                TimelineEntry.objects.filter(customer_id__in=ids).delete()
                Contact.objects.filter(customer_id__in=ids).delete()
                Customer.objects.filter(pk__in=ids).delete()

    lines = [
        f"# Import benchmark — {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite; {args.rows:,} rows (one customer and one contact each; .xls at most {XLS_MAX_ROWS:,}) "
        f"into a database holding {args.existing:,} customers.",
        "",
        "| file | rows | size | upload (read + count) | preview (values, clean, match, stage) | run (prepare + write) | of which the write transaction | total | CPU | rows/s | created | duplicates found |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for fmt, count, size, cpu, upload, preview, apply, report, created in results:
        total = upload + preview + apply
        lines.append(
            f"| {fmt} | {count:,} | {size / 1048576:.1f} MiB | {upload:.1f} s | {preview:.1f} s | {apply:.1f} s | "
            f"{report.get('seconds', {}).get('write', 0):.1f} s | **{total:.1f} s** | {cpu:.1f} s | {count / total:,.0f} | {created:,} | "
            f"{report.get('duplicates', 0):,} |"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0
    lines += ["", f"Wall-clock times; CPU is this process's CPU time. Load average at the end: {load:.1f}."]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import-latest.md").write_text(text)


if __name__ == "__main__":
    main()
