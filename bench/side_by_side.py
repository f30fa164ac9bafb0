"""SQLite p95 next to PostgreSQL p95, per page and person, from the last two benchmark runs.

    .venv/bin/python bench/side_by_side.py      # reads bench/results/latest.md and latest-pg.md

Both runs must be on the same data set (`make bench-pg` copies the SQLite one), so the rows carry
the same labels. Prints a Markdown table for bench/README.md.
"""

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def rows(path: Path) -> dict[str, tuple[str, str, str]]:
    """label → (p50, p95, target) of the page rows (not the SQL, throughput or memory rows)."""
    out = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[1] or cells[0].startswith(("measurement", "---", "SQL of", "bare SQL")):
            continue
        out[cells[0]] = (cells[1], cells[2], cells[4])
    return out


def number(cell: str) -> float | None:
    match = re.match(r"[\d,.]+", cell)
    return float(match.group().replace(",", "")) if match else None


def main() -> None:
    lite, pg = rows(RESULTS / "latest.md"), rows(RESULTS / "latest-pg.md")
    header = [line for line in (RESULTS / "latest-pg.md").read_text().splitlines()[:4] if line.startswith("- data")]
    print("\n".join(header))
    print()
    print("| page (signed in as manager1 unless named) | SQLite p95 ms | PostgreSQL p95 ms | PG / SQLite | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, (_p50, p95, target) in lite.items():
        if label not in pg:
            continue
        other = pg[label][1]
        a, b = number(p95), number(other)
        ratio = f"{b / a:.1f}×" if a and b else ""
        print(f"| {label} | {p95} | {other} | {ratio} | {target} |")


if __name__ == "__main__":
    main()
