"""Knowledge base benchmark (SRV-4): the self-service page's search over a few thousand articles.

    .venv/bin/python bench/knowledge_bench.py                     # 5,000 articles, SQLite
    .venv/bin/python bench/knowledge_bench.py --articles 20000
    DATABASE_URL=postgres://…/kehu_bench .venv/bin/python bench/knowledge_bench.py   # PostgreSQL

Builds a fresh SQLite database under var/bench-knowledge/ (or uses DATABASE_URL, emptying its
articles), bulk-inserts articles with Chinese and English titles and texts (their search text made by
`kb_services.search_text`, as the services do), then times, in this process, the search selector's
first page (20 rows, no count, as the page reads it) and `GET /help/?q=…` through Django's test client, for 1-, 2- and
4-character Chinese queries and English words. Prints a Markdown table.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-knowledge"
QUERIES = ["漏", "漏油", "液压站漏油", "主轴", "异响 主轴", "servo", "spindle noise", "不存在的词"]
FAULTS = ["漏油", "异响", "发热", "报警", "卡滞", "压力不足", "精度超差", "无法复位", "振动", "渗水"]
PARTS = ["液压站", "主轴", "刀塔", "导轨", "伺服电机", "冷却泵", "控制柜", "卡盘", "丝杠", "润滑泵"]
EN = ["hydraulic leak", "spindle noise", "servo alarm", "coolant pump", "turret stuck", "guideway oil"]


def setup_django():
    if "DATABASE_URL" not in os.environ:
        shutil.rmtree(VAR, ignore_errors=True)
        VAR.mkdir(parents=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{VAR / 'kehu.sqlite3'}"
    os.environ["KEHU_VAR_DIR"] = str(VAR)
    os.environ["KEHU_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load(n: int) -> None:
    from django.utils import timezone

    from kehu.support.kb_services import search_text
    from kehu.support.models import Article

    Article.objects.all().delete()
    rnd = random.Random(7)
    now = timezone.now()
    rows = []
    for i in range(n):
        part, fault = rnd.choice(PARTS), rnd.choice(FAULTS)
        en = rnd.choice(EN)
        article = Article(
            title_zh=f"{part}{fault}怎么办（{i}）",
            body_zh="\n".join(f"- 检查{rnd.choice(PARTS)}的{rnd.choice(FAULTS)}情况" for _ in range(12)),
            title_en=f"{en.capitalize()} #{i}",
            body_en=" ".join(rnd.choice(EN) for _ in range(40)),
            keywords=f"{fault} {part}",
            state="published",
            is_public=i % 5 != 0,
            published_at=now,
        )
        article.search_text = search_text(article)
        rows.append(article)
    Article.objects.bulk_create(rows, batch_size=1000)


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    setup_django()
    load(args.articles)
    from django.db import connection
    from django.test import Client

    from kehu.core.pagination import page_of, slice_page
    from kehu.support import kb_selectors

    client = Client()
    print(f"{args.articles:,} articles on {connection.vendor}\n")
    print("| query | found | selector p50 / p95 ms | page p50 / p95 ms |")
    print("| --- | ---: | ---: | ---: |")
    for q in QUERIES:
        qs = kb_selectors.article_search(kb_selectors.public_articles(), q)
        found = page_of(qs, offset=0, limit=20).count
        s50, s95 = timed(lambda qs=qs: slice_page(qs, 0, 20), args.runs)
        p50, p95 = timed(lambda q=q: client.get("/help/", {"q": q}), args.runs)
        print(f"| {q} | {found:,} | {s50:.1f} / {s95:.1f} | {p50:.1f} / {p95:.1f} |")


if __name__ == "__main__":
    main()
