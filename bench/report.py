"""The printed table: measure, value, floor, ratio, target, met?"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.model import Measure, Section, load_results

HEADER = ("measure", "value", "floor", "ratio", "target", "met?")


def _number(value: float, unit: str) -> str:
    if unit == "USD":
        return f"${value:,.2f}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def measure_row(measure: Measure) -> tuple[str, ...]:
    ratio = measure.ratio
    met = measure.met
    return (
        measure.name,
        _number(measure.value, measure.unit),
        "—" if measure.floor is None else _number(measure.floor, measure.unit),
        "—" if ratio is None else f"{ratio:.2f}×",
        "—" if measure.target is None else f"≤ {measure.target:g}×",
        "—" if met is None else "yes" if met else "NO",
    )


def section_rows(section: Section) -> list[tuple[str, ...]]:
    if section.status != "ok" and not section.measures:
        return [(f"({section.status}: {section.reason})", "", "", "", "", "")]
    rows = [measure_row(measure) for measure in section.measures]
    if section.reason:
        rows.append((f"({section.reason})", "", "", "", "", ""))
    return rows


def render_table(sections: list[Section]) -> str:
    """Plain text, one block per section, columns aligned."""
    blocks = [(section.title, section_rows(section)) for section in sections]
    all_rows = [HEADER, *(row for _, rows in blocks for row in rows if row[1])]
    widths = [max(len(row[col]) for row in all_rows) for col in range(len(HEADER))]

    def line(row: tuple[str, ...]) -> str:
        if not row[1] and not row[2]:
            return "  " + row[0]
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    out = [line(HEADER), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    for title, rows in blocks:
        out.append(f"{title}")
        out.extend(line(row) for row in rows)
    return "\n".join(out)


def markdown_table(sections: list[Section]) -> str:
    """The same table for docs/performance.md."""
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for section in sections:
        out.append(f"| **{section.title}** |  |  |  |  |  |")
        for row in section_rows(section):
            out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def main() -> None:
    """`python -m bench.report [bench/results.json]`: the markdown table for docs/performance.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", type=Path, nargs="?", default=Path("bench/results.json"))
    run, sections = load_results(json.loads(parser.parse_args().results.read_text()))
    print(
        f"Run of {run.started_at:%Y-%m-%d %H:%M} UTC, {run.duration_s:.0f} s, Python {run.python}, {run.cpu_count} CPUs"
    )
    print()
    print(markdown_table(sections))


if __name__ == "__main__":
    main()
