"""The /stats chart: stacked daily green/yellow/red counts as a PNG, drawn with Pillow.

The picture holds only numbers and dates (its caption, from the catalogue, says what it shows), so
it reads the same in every language and needs no CJK font.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from rules.model import Colour

WIDTH, HEIGHT = 960, 540
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 80, 30, 60, 70
FILL = {Colour.GREEN: (46, 125, 50), Colour.YELLOW: (249, 168, 37), Colour.RED: (198, 40, 40)}
STACK = (Colour.GREEN, Colour.YELLOW, Colour.RED)  # bottom to top
INK, GRID, PAPER = (33, 33, 33), (224, 224, 224), (255, 255, 255)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def nice_step(maximum: int, ticks: int = 5) -> int:
    """A round tick step (1, 2, 5 × 10^n) so that about ``ticks`` ticks cover ``maximum``."""
    raw = max(1, maximum) / ticks
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def render_colour_chart(days: Sequence[date], counts: Sequence[Mapping[Colour, int]]) -> bytes:
    """One stacked bar per day; returns PNG bytes."""
    if len(days) != len(counts) or not days:
        raise ValueError("counts: need one mapping per day, and at least one day")
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    totals = [sum(day_counts.get(c, 0) for c in STACK) for day_counts in counts]
    step = nice_step(max(totals))
    top = step * max(1, -(-max(totals) // step))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    small, label = _font(14), _font(16)

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_h - plot_h * value / top

    for tick in range(0, top + 1, step):
        y = y_of(tick)
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=GRID, width=1)
        draw.text((MARGIN_LEFT - 8, y), str(tick), fill=INK, font=small, anchor="rm")
    slot = plot_w / len(days)
    bar = slot * 0.7
    for index, (day, day_counts) in enumerate(zip(days, counts, strict=True)):
        x0 = MARGIN_LEFT + index * slot + (slot - bar) / 2
        base = 0
        for colour in STACK:
            value = day_counts.get(colour, 0)
            if value:
                draw.rectangle([x0, y_of(base + value), x0 + bar, y_of(base)], fill=FILL[colour])
            base += value
        draw.text((x0 + bar / 2, y_of(base) - 4), str(totals[index]), fill=INK, font=small, anchor="md")
        draw.text((x0 + bar / 2, HEIGHT - MARGIN_BOTTOM + 10), day.strftime("%m-%d"), fill=INK, font=small, anchor="mt")
    draw.line([(MARGIN_LEFT, MARGIN_TOP), (MARGIN_LEFT, HEIGHT - MARGIN_BOTTOM)], fill=INK, width=2)
    draw.line([(MARGIN_LEFT, HEIGHT - MARGIN_BOTTOM), (WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM)], fill=INK, width=2)
    _legend(draw, counts[-1], label)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _legend(
    draw: ImageDraw.ImageDraw, latest: Mapping[Colour, int], font: ImageFont.ImageFont | ImageFont.FreeTypeFont
) -> None:
    """Coloured swatches with the latest day's counts, top right."""
    x: float = WIDTH - MARGIN_RIGHT
    for colour in reversed(STACK):
        text = str(latest.get(colour, 0))
        width = draw.textlength(text, font=font)
        x -= width
        draw.text((x, 22), text, fill=INK, font=font, anchor="lm")
        x -= 26
        draw.rectangle([x, 14, x + 18, 30], fill=FILL[colour])
        x -= 24
