"""The benchmark's curve as a PNG, drawn with Pillow alone (a project dependency; no plotting library).

Two panels side by side, log-log: seconds against reports, and peak RSS (MiB) against reports; one line per engine
and build kind, a legend under the panels. Same data, same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

Series = dict[str, list[tuple[float, float]]]  # label → [(reports, value)]

PANEL_WIDTH, PANEL_HEIGHT, MARGIN, LEGEND_ROW = 560, 380, 64, 18
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 128), (128, 0, 0)]
DASHED = "Zensical"  # series whose label starts with this are drawn dashed (the second engine)


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:  # the share card's font lookup (fontconfig): DejaVu or Noto where installed
        from generator.publish.card import find_font

        file, index, _ = find_font("Reports 0123456789 seconds MiB", False, "en")
        return ImageFont.truetype(file, size, index=index)
    except Exception:  # noqa: BLE001 - no fontconfig, no font: Pillow's own
        try:
            return ImageFont.load_default(size)
        except TypeError:  # Pillow < 10.1
            return ImageFont.load_default()


def _ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 × powers of ten within [low, high] (1…9 × when that gives too few, powers of ten when too many)."""
    exponents = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    ticks = [m * 10.0 ** e for e in exponents for m in (1, 2, 5) if low <= m * 10.0 ** e <= high]
    if len(ticks) < 3:  # less than a decade: every integer mantissa
        ticks = [m * 10.0 ** e for e in exponents for m in range(1, 10) if low <= m * 10.0 ** e <= high]
    if len(ticks) > 12:
        ticks = [t for t in ticks if math.isclose(10 ** round(math.log10(t)), t)]
    return ticks


def _label(value: float) -> str:
    return f"{value:g}" if value >= 0.01 else f"{value:.0e}"


def _bounds(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if math.isclose(low, high):
        low, high = low / 2, high * 2
    pad = (math.log10(high) - math.log10(low)) * 0.08
    return 10 ** (math.log10(low) - pad), 10 ** (math.log10(high) + pad)


def _dashed(draw: Any, start: tuple[float, float], end: tuple[float, float], fill: tuple[int, int, int]) -> None:
    length = math.dist(start, end)
    steps = max(1, int(length // 6))
    for step in range(0, steps, 2):
        a, b = step / steps, min(1.0, (step + 1) / steps)
        draw.line([(start[0] + (end[0] - start[0]) * a, start[1] + (end[1] - start[1]) * a),
                   (start[0] + (end[0] - start[0]) * b, start[1] + (end[1] - start[1]) * b)], fill=fill, width=2)


def _panel(draw: Any, left: int, series: Series, colours: dict[str, tuple[int, int, int]], title: str,
           y_name: str, font: Any) -> None:
    top, width, height = 44, PANEL_WIDTH - MARGIN - 16, PANEL_HEIGHT - 44 - 48
    x0, y0 = left + MARGIN, top
    draw.text((x0, 6), title, fill=(0, 0, 0), font=font)
    draw.rectangle([x0, y0, x0 + width, y0 + height], outline=(0, 0, 0))
    points = [p for values in series.values() for p in values if p[0] > 0 and p[1] > 0]
    if not points:
        draw.text((x0 + 12, y0 + height // 2), "no data", fill=(120, 120, 120), font=font)
        return
    xlow, xhigh = _bounds([p[0] for p in points])
    ylow, yhigh = _bounds([p[1] for p in points])

    def at(x: float, y: float) -> tuple[float, float]:
        fx = (math.log10(x) - math.log10(xlow)) / (math.log10(xhigh) - math.log10(xlow))
        fy = (math.log10(y) - math.log10(ylow)) / (math.log10(yhigh) - math.log10(ylow))
        return x0 + fx * width, y0 + height - fy * height

    for tick in _ticks(xlow, xhigh):
        x, _ = at(tick, ylow)
        draw.line([(x, y0), (x, y0 + height)], fill=(225, 225, 225))
        draw.text((x - 8, y0 + height + 4), _label(tick), fill=(0, 0, 0), font=font)
    for tick in _ticks(ylow, yhigh):
        _, y = at(xlow, tick)
        draw.line([(x0, y), (x0 + width, y)], fill=(225, 225, 225))
        draw.text((left + 4, y - 7), _label(tick), fill=(0, 0, 0), font=font)
    draw.text((x0 + width // 2 - 24, y0 + height + 22), "reports", fill=(0, 0, 0), font=font)
    draw.text((left + 4, y0 - 18), y_name, fill=(80, 80, 80), font=font)
    for label, values in series.items():
        colour = colours[label]
        plotted = [at(x, y) for x, y in sorted(values) if x > 0 and y > 0]
        for start, end in zip(plotted, plotted[1:], strict=False):
            if label.startswith(DASHED):
                _dashed(draw, start, end, colour)
            else:
                draw.line([start, end], fill=colour, width=2)
        for x, y in plotted:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)


def write_curve_png(times: Series, rss: Series, path: Path, title: str = "report build against the plain engines") -> Path:
    """Write the curve to `path` (PNG): seconds and peak RSS against reports, log-log, one line per series."""
    from PIL import Image, ImageDraw

    labels = list(dict.fromkeys([*times, *rss]))
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    columns = [[label for label in labels if not label.startswith(DASHED)],
               [label for label in labels if label.startswith(DASHED)]]
    rows = max(1, *(len(column) for column in columns))
    image = Image.new("RGB", (2 * PANEL_WIDTH, PANEL_HEIGHT + 24 + rows * LEGEND_ROW + 12), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = _font(12)
    _panel(draw, 0, times, colours, f"Time: {title}", "seconds (median), log", font)
    _panel(draw, PANEL_WIDTH, rss, colours, "Peak RSS", "MiB, log", font)
    for column, row, label in ((c, r, label) for c, items in enumerate(columns) for r, label in enumerate(items)):
        x = MARGIN + column * PANEL_WIDTH
        y = PANEL_HEIGHT + 24 + row * LEGEND_ROW
        if label.startswith(DASHED):
            _dashed(draw, (x, y + 7), (x + 28, y + 7), colours[label])
        else:
            draw.line([(x, y + 7), (x + 28, y + 7)], fill=colours[label], width=2)
        draw.text((x + 36, y), label + (" (dashed)" if label.startswith(DASHED) else ""), fill=(0, 0, 0), font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
    return path
