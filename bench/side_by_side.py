"""SQLite p95 next to PostgreSQL p95, per page and person, from the last two benchmark runs.

    .venv/bin/python bench/side_by_side.py      # reads bench/results/latest.md and latest-pg.md

Both runs must be on the same data set (`make bench-pg` copies the SQLite one), so the rows carry
the same labels. Prints a Markdown table for bench/README.md: each page's p95 through the server
and the p50 of its SQL replayed on its own (less sensitive to the machine's load).
"""

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def rows(path: Path) -> tuple[dict[str, tuple[str, str, str]], dict[str, str]]:
    """label → (p50, p95, target) of the page rows, and label → p50 of the page's SQL replayed."""
    out, sql = {}, {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[1] or cells[0].startswith(("measurement", "---", "bare SQL")):
            continue
        if cells[0].startswith("SQL of "):
            sql[re.sub(r" \(\d+ queries\)$", "", cells[0][len("SQL of ") :])] = cells[1]
        else:
            out[cells[0]] = (cells[1], cells[2], cells[4])
    return out, sql


def number(cell: str) -> float | None:
    match = re.match(r"[\d,.]+", cell)
    return float(match.group().replace(",", "")) if match else None


def main() -> None:
    (lite, lite_sql), (pg, pg_sql) = rows(RESULTS / "latest.md"), rows(RESULTS / "latest-pg.md")
    header = [line for line in (RESULTS / "latest-pg.md").read_text().splitlines()[:4] if line.startswith("- data")]
    print("\n".join(header))
    print()
    print(
        "| page (signed in as manager1 unless named) | SQLite p95 ms | PostgreSQL p95 ms | PG / SQLite "
        "| its SQL, SQLite (p50 ms) | its SQL, PostgreSQL (p50 ms) | target |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, (_p50, p95, target) in lite.items():
        if label not in pg:
            continue
        other = pg[label][1]
        a, b = number(p95), number(other)
        ratio = f"{b / a:.1f}×" if a and b else ""
        print(
            f"| {label} | {p95} | {other} | {ratio} | {lite_sql.get(label, '')} | {pg_sql.get(label, '')} | {target} |"
        )


if __name__ == "__main__":
    main()
