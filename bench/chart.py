"""The chart beside results.json: each measure's ratio to its floor, with its target marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")  # files only: no display on CI or on this machine

import matplotlib.pyplot as plt

from bench.model import Section

_MET, _MISSED, _NO_TARGET = "#2e7d32", "#c62828", "#78909c"


def write_chart(sections: list[Section], path: Path) -> None:
    """A horizontal bar per measure that has a ratio; a tick at its target; green met, red missed."""
    rows = [
        (section, measure)
        for section in sections
        for measure in section.measures
        if measure.ratio is not None
    ]
    height = max(2.5, 0.32 * len(rows) + 1.4)
    fig, ax = plt.subplots(figsize=(12, height))
    labels = [measure.name for _, measure in rows]
    ratios = [measure.ratio or 0.0 for _, measure in rows]
    colours = [_NO_TARGET if measure.met is None else _MET if measure.met else _MISSED for _, measure in rows]
    positions = list(range(len(rows)))
    ax.barh(positions, ratios, color=colours)
    for position, (_, measure) in zip(positions, rows, strict=True):
        if measure.target is not None:
            ax.plot([measure.target, measure.target], [position - 0.4, position + 0.4], color="black", lw=2)
        ax.text((measure.ratio or 0) * 1.01, position, f" {measure.ratio:.2f}×", va="center", fontsize=8)
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    # Ratios span 1× to tens of ×: a log scale keeps the ones near their targets readable.
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}×"))
    ax.set_xlim(left=0.5, right=max([2.0, *ratios]) * 1.6)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("value / floor, same run (log scale)")
    ax.set_title(
        "nomi-gateway benchmarks — black tick: target; green: met; red: missed; grey: no target", fontsize=10
    )
    if not rows:
        ax.text(0.5, 0.5, "no ratios measured", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
