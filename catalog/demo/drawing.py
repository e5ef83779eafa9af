"""The demo products' photos: a small Pillow drawing of each item type in the product's colour.

Drawn, not copied, and deterministic: the same product dict gives the same PNG bytes, so
reloading the demo is a no-op and search results in demos and tests are reproducible.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw

IMAGE_SIZE = 320
# Drawn at twice the size and scaled down: cheap anti-aliasing for Pillow's jagged shapes.
_SUPERSAMPLE = 2
_BACKGROUND = (246, 244, 240)
_SHADOW = (226, 223, 217)
_STEEL = (186, 190, 196)

RGB = tuple[int, int, int]

# The colours the demo data may name. Its order is part of the catalog: products.py deals
# accent colours from it, so reordering it would change every product's drawing.
PALETTE: dict[str, RGB] = {
    "white": (250, 250, 247),
    "ivory": (238, 230, 208),
    "sand": (212, 192, 152),
    "grey": (150, 152, 156),
    "charcoal": (58, 62, 68),
    "black": (32, 32, 35),
    "navy": (34, 50, 96),
    "sky blue": (122, 176, 226),
    "teal": (28, 128, 128),
    "sage": (148, 174, 140),
    "forest green": (40, 96, 62),
    "olive": (112, 116, 52),
    "mustard": (216, 166, 42),
    "yellow": (246, 206, 62),
    "orange": (236, 122, 32),
    "terracotta": (196, 98, 66),
    "coral": (240, 122, 102),
    "red": (198, 40, 48),
    "burgundy": (112, 30, 46),
    "blush pink": (234, 182, 182),
    "lavender": (182, 162, 216),
    "brown": (122, 82, 52),
    "silver": (192, 194, 198),
    "gold": (204, 168, 82),
    "copper": (186, 116, 70),
}


def _shade(color: RGB, factor: float) -> RGB:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(int(c * factor) for c in color)  # type: ignore[return-value]
    mix = factor - 1
    return tuple(int(c + (255 - c) * mix) for c in color)  # type: ignore[return-value]


class _Pen:
    """ImageDraw in a 320x320 coordinate space, drawn at the supersampled size."""

    def __init__(self, draw: ImageDraw.ImageDraw, scale: int) -> None:
        self.draw = draw
        self.k = scale

    def _xy(self, points: Any) -> list[float]:
        return [v * self.k for v in points]

    def rect(self, box, fill, outline=None, width=3, radius=0) -> None:
        self.draw.rounded_rectangle(
            self._xy(box), radius=radius * self.k, fill=fill, outline=outline,
            width=width * self.k if outline else 0,
        )  # fmt: skip

    def ellipse(self, box, fill, outline=None, width=3) -> None:
        self.draw.ellipse(
            self._xy(box), fill=fill, outline=outline, width=width * self.k if outline else 0
        )

    def polygon(self, points, fill, outline=None, width=3) -> None:
        flat = self._xy([v for point in points for v in point])
        self.draw.polygon(flat, fill=fill, outline=outline, width=width * self.k if outline else 0)

    def line(self, points, fill, width=3) -> None:
        flat = self._xy([v for point in points for v in point])
        self.draw.line(flat, fill=fill, width=width * self.k, joint="curve")

    def arc(self, box, start, end, fill, width=3) -> None:
        self.draw.arc(self._xy(box), start, end, fill=fill, width=width * self.k)

    def teeth(self, start, end, depth, count, fill) -> None:
        """Saw teeth: triangles along the segment start-end, pointing to its left side."""
        (x0, y0), (x1, y1) = start, end
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = (y1 - y0) / length * depth, -(x1 - x0) / length * depth
        for i in range(count):
            ax, ay = x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count
            bx, by = x0 + (x1 - x0) * (i + 1) / count, y0 + (y1 - y0) * (i + 1) / count
            self.polygon([(ax, ay), (bx, by), (bx + nx, by + ny)], fill=fill)


def _towel(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    p.line([(50, 70), (270, 70)], fill=(150, 150, 155), width=8)
    p.ellipse((42, 62, 58, 78), fill=(120, 120, 125))
    p.ellipse((262, 62, 278, 78), fill=(120, 120, 125))
    p.rect((85, 66, 235, 280), fill=c, outline=dark, radius=6)
    if variant == "beach":
        for x in range(85, 235, 30):
            p.rect((x, 100, x + 15, 280), fill=a)
        p.rect((85, 66, 235, 280), fill=None, outline=dark, radius=6)
    else:
        for y in (226, 242):
            p.rect((85, y, 235, y + 8), fill=a)
    p.rect((85, 66, 235, 100), fill=_shade(c, 0.88), outline=dark, radius=6)
    for x in range(95, 230, 12):  # fringe
        p.line([(x, 280), (x, 292)], fill=dark, width=2)


def _towel_stack(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    for i, y in enumerate((210, 160, 110)):
        tone = _shade(c, 1 - 0.06 * i)
        p.rect((60 + i * 6, y, 260 - i * 6, y + 52), fill=tone, outline=dark, radius=22)
        p.rect((100 + i * 6, y + 20, 220 - i * 6, y + 28), fill=a)


def _saw_circular(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    cx, cy, r = 160, 195, 78
    for i in range(28):  # teeth around the blade
        t0, t1 = 2 * math.pi * i / 28, 2 * math.pi * (i + 0.6) / 28
        p.polygon(
            [
                (cx + r * math.cos(t0), cy + r * math.sin(t0)),
                (cx + (r + 10) * math.cos(t0), cy + (r + 10) * math.sin(t0)),
                (cx + r * math.cos(t1), cy + r * math.sin(t1)),
            ],
            fill=(120, 124, 130),
        )
    p.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_STEEL, outline=(120, 124, 130))
    p.ellipse((cx - 12, cy - 12, cx + 12, cy + 12), fill=(90, 92, 96))
    p.draw.pieslice(p._xy((cx - 90, cy - 90, cx + 90, cy + 90)), 180, 360, fill=c, outline=dark)
    p.rect((120, 70, 240, 130), fill=c, outline=dark, radius=18)  # motor
    p.rect((200, 58, 285, 92), fill=_shade(c, 0.35), radius=16)  # handle
    p.rect((20, 265, 300, 278), fill=(150, 154, 160), radius=4)  # base plate


def _saw_band(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((190, 40, 235, 275), fill=c, outline=dark, radius=10)  # column
    p.rect((80, 35, 235, 115), fill=c, outline=dark, radius=30)  # upper wheel housing
    p.rect((80, 200, 235, 275), fill=c, outline=dark, radius=24)  # lower wheel housing
    p.line([(115, 115), (115, 200)], fill=_STEEL, width=5)  # the band blade
    for y in range(118, 198, 8):
        p.polygon([(112, y), (112, y + 6), (106, y + 6)], fill=(110, 114, 120))
    p.rect((45, 160, 260, 174), fill=(140, 144, 150), outline=(100, 102, 108), radius=3)
    p.rect((100, 115, 130, 135), fill=_shade(c, 0.4), radius=4)  # blade guide
    p.rect((95, 275, 225, 295), fill=(70, 72, 78), radius=4)
    p.ellipse((200, 220, 220, 240), fill=a)  # switch


def _saw_jig(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((70, 120, 250, 185), fill=c, outline=dark, radius=20)
    p.arc((120, 60, 240, 170), 180, 360, fill=_shade(c, 0.35), width=18)  # top handle
    p.rect((80, 185, 240, 197), fill=_STEEL, outline=(110, 114, 120), radius=3)  # shoe
    p.rect((108, 197, 120, 275), fill=_STEEL)
    p.teeth((108, 200), (108, 272), 7, 10, (110, 114, 120))
    p.ellipse((200, 140, 222, 162), fill=a)


def _saw_recip(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((120, 130, 290, 190), fill=c, outline=dark, radius=24)
    p.rect((230, 175, 275, 250), fill=_shade(c, 0.35), radius=14)  # grip
    p.rect((95, 140, 125, 180), fill=(90, 92, 96), radius=6)  # shoe
    p.polygon([(20, 158), (100, 152), (100, 170), (28, 170)], fill=_STEEL)
    p.teeth((28, 170), (100, 170), -7, 11, (110, 114, 120))
    p.ellipse((250, 140, 270, 160), fill=a)


def _mug(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    box = {"wide": (70, 120, 220, 245), "small": (110, 165, 200, 245)}.get(
        variant, (90, 95, 210, 250)
    )
    x0, y0, x1, y1 = box
    h = (y1 - y0) * 0.45
    p.arc((x1 - 25, y0 + 20, x1 + 45, y0 + 20 + h * 1.6), 270, 90, fill=dark, width=14)
    p.arc((x1 - 25, y0 + 20, x1 + 45, y0 + 20 + h * 1.6), 270, 90, fill=c, width=9)
    p.ellipse((x0, y1 - 16, x1, y1 + 16), fill=c, outline=dark)
    p.rect((x0, y0, x1, y1), fill=c)
    p.line([(x0, y0), (x0, y1)], fill=dark, width=3)
    p.line([(x1, y0), (x1, y1)], fill=dark, width=3)
    p.ellipse((x0, y0 - 14, x1, y0 + 14), fill=_shade(c, 0.75), outline=dark)
    p.ellipse((x0 + 8, y0 - 8, x1 - 8, y0 + 10), fill=(92, 60, 40))  # coffee
    p.rect((x0, y0 + (y1 - y0) * 0.55, x1, y0 + (y1 - y0) * 0.62), fill=a)


def _mug_travel(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    p.polygon([(110, 95), (210, 95), (200, 270), (120, 270)], fill=c, outline=dark)
    p.ellipse((120, 260, 200, 280), fill=c, outline=dark)
    p.rect((102, 60, 218, 98), fill=_shade(a, 0.8), outline=_shade(a, 0.5), radius=10)  # lid
    p.rect((175, 64, 205, 72), fill=_shade(a, 0.5), radius=3)
    p.rect((117, 170, 203, 190), fill=_shade(c, 0.8))  # grip band


def _pan(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.5)
    p.polygon([(215, 170), (305, 150), (310, 168), (222, 192)], fill=_shade(c, 0.4))
    p.ellipse((30, 120, 230, 240), fill=c, outline=dark, width=4)
    p.ellipse((48, 132, 212, 226), fill=_shade(c, 0.8))
    p.ellipse((80, 150, 140, 185), fill=_shade(c, 0.9))  # sheen


def _pot(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.5)
    box = (95, 140, 225, 245) if variant == "small" else (70, 120, 250, 260)
    x0, y0, x1, y1 = box
    if variant == "small":
        p.polygon([(x1, y0 + 20), (300, y0 + 5), (302, y0 + 20), (x1, y0 + 36)], fill=dark)
    else:
        p.rect((x0 - 28, y0 + 20, x0 + 5, y0 + 36), fill=dark, radius=8)
        p.rect((x1 - 5, y0 + 20, x1 + 28, y0 + 36), fill=dark, radius=8)
    p.ellipse((x0, y1 - 18, x1, y1 + 18), fill=c, outline=dark)
    p.rect((x0, y0, x1, y1), fill=c)
    p.line([(x0, y0), (x0, y1)], fill=dark, width=3)
    p.line([(x1, y0), (x1, y1)], fill=dark, width=3)
    p.ellipse((x0 - 6, y0 - 22, x1 + 6, y0 + 16), fill=_shade(c, 0.85), outline=dark)  # lid
    mid = (x0 + x1) / 2
    p.rect((mid - 18, y0 - 34, mid + 18, y0 - 14), fill=_STEEL, outline=(110, 114, 120), radius=8)


def _sneaker(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    if variant == "high":  # the collar climbs above the ankle
        heel = [(40, 224), (44, 110), (100, 100), (118, 130)]
    else:
        heel = [(40, 224), (42, 162), (72, 150), (104, 170)]
    toe = [(128, 140), (150, 118), (176, 124), (214, 164), (262, 182), (292, 204), (294, 224)]
    p.polygon(heel + toe, fill=c, outline=dark)
    p.rect((32, 220, 300, 250), fill=(245, 245, 240), outline=(170, 170, 165), radius=12)
    p.rect((32, 242, 300, 250), fill=_shade(a, 0.7), radius=4)
    p.arc((70, 150, 250, 290), 200, 300, fill=a, width=12)  # side stripe
    for i in range(4):  # laces across the vamp
        x, y = 150 + i * 16, 128 + i * 10
        p.line([(x - 8, y + 6), (x + 10, y - 4)], fill=(245, 245, 240), width=4)


def _tshirt(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    if variant == "long":
        sleeves_l = [(95, 75), (30, 230), (62, 240), (100, 140)]
        sleeves_r = [(225, 75), (290, 230), (258, 240), (220, 140)]
    else:
        sleeves_l = [(95, 75), (40, 130), (70, 158), (100, 140)]
        sleeves_r = [(225, 75), (280, 130), (250, 158), (220, 140)]
    p.polygon(sleeves_l, fill=_shade(c, 0.92), outline=dark)
    p.polygon(sleeves_r, fill=_shade(c, 0.92), outline=dark)
    body = [(95, 75), (130, 62), (190, 62), (225, 75), (220, 280), (100, 280)]
    p.polygon(body, fill=c, outline=dark)
    if variant == "stripes":
        for y in range(110, 275, 26):
            p.rect((100, y, 221, y + 11), fill=a)
    if variant == "pocket":
        p.rect((175, 115, 205, 150), fill=_shade(c, 0.85), outline=dark, radius=3)
    if variant == "v":
        p.polygon([(130, 62), (190, 62), (160, 112)], fill=_BACKGROUND, outline=dark)
    else:
        p.ellipse((130, 48, 190, 82), fill=_BACKGROUND, outline=dark)


def _backpack(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.arc((130, 40, 190, 90), 180, 360, fill=dark, width=8)  # grab handle
    p.rect((62, 100, 90, 250), fill=_shade(c, 0.7), radius=12)  # straps peeking out
    p.rect((230, 100, 258, 250), fill=_shade(c, 0.7), radius=12)
    top = 45 if variant == "roll" else 62
    p.rect((80, top, 240, 285), fill=c, outline=dark, radius=44 if variant != "roll" else 14)
    if variant == "roll":
        p.rect((80, 45, 240, 85), fill=_shade(c, 0.8), outline=dark, radius=10)
        p.rect((148, 70, 172, 130), fill=_shade(a, 0.8), radius=4)  # buckle strap
    else:
        p.arc((98, 80, 222, 160), 200, 340, fill=dark, width=3)  # zip
    p.rect((100, 175, 220, 268), fill=_shade(c, 0.85), outline=dark, radius=22)
    p.line([(112, 195), (208, 195)], fill=a, width=4)


def _lamp(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.polygon([(205, 205), (285, 205), (300, 285), (190, 285)], fill=(255, 246, 196))
    p.ellipse((55, 262, 175, 290), fill=c, outline=dark)
    if variant == "bar":
        p.line([(115, 270), (115, 90), (265, 70)], fill=c, width=12)
        p.rect((185, 60, 290, 84), fill=_shade(c, 0.8), outline=dark, radius=8)
        return
    p.line([(115, 270), (90, 160), (200, 95)], fill=c, width=11)
    for x, y in ((115, 268), (90, 160), (200, 95)):
        p.ellipse((x - 9, y - 9, x + 9, y + 9), fill=_shade(c, 0.5))
    p.polygon([(190, 80), (230, 70), (285, 200), (205, 205)], fill=c, outline=dark)
    p.ellipse((205, 190, 285, 215), fill=(255, 236, 150), outline=dark)


def _headphones(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.arc((70, 50, 250, 230), 180, 360, fill=dark, width=20)
    p.arc((70, 50, 250, 230), 185, 355, fill=c, width=14)
    for x0 in (50, 215):
        p.rect((x0 + 5, 125, x0 + 50, 150), fill=_STEEL, radius=4)  # yokes
        p.rect((x0, 140, x0 + 55, 245), fill=c, outline=dark, radius=24)
        pad_x = x0 + 38 if x0 < 160 else x0 - 6
        p.rect((pad_x, 150, pad_x + 22, 235), fill=(60, 60, 64), radius=10)
    p.ellipse((65, 180, 85, 200), fill=a)


def _earbuds(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((85, 170, 235, 265), fill=c, outline=dark, radius=40)  # case
    p.line([(90, 205), (230, 205)], fill=dark, width=3)
    p.ellipse((152, 240, 168, 256), fill=a)
    for x in (110, 190):
        p.rect((x + 14, 80, x + 28, 150), fill=c, outline=dark, radius=7)  # stem
        p.ellipse((x, 50, x + 40, 95), fill=c, outline=dark)
        p.ellipse((x + 10, 60, x + 26, 76), fill=(70, 70, 74))


def _yoga_mat(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    if variant == "flat":
        p.polygon([(40, 250), (100, 150), (290, 150), (250, 250)], fill=c, outline=dark)
        p.polygon([(40, 250), (250, 250), (250, 266), (40, 266)], fill=dark)
        for i in range(1, 4):
            p.line([(70 + i * 4, 250 - i * 25), (265 + i * 6, 250 - i * 25)], fill=a, width=2)
        return
    p.rect((80, 120, 270, 210), fill=c, outline=dark, radius=4)
    p.rect((140, 116, 156, 214), fill=a, radius=3)  # carry straps
    p.rect((210, 116, 226, 214), fill=a, radius=3)
    p.ellipse((40, 120, 120, 210), fill=_shade(c, 0.9), outline=dark)
    for r in (30, 21, 12):
        p.arc((80 - r, 165 - r, 80 + r, 165 + r), 30, 330, fill=dark, width=3)
    p.polygon([(100, 210), (290, 210), (300, 230), (110, 230)], fill=_shade(c, 0.95))


def _sofa(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    x0, x1 = (55, 265) if variant == "small" else (25, 295)
    if variant == "sectional":
        x1 = 230
        p.rect((200, 190, 300, 250), fill=c, outline=dark, radius=12)  # chaise
        p.rect((205, 178, 295, 200), fill=_shade(c, 1.12), outline=dark, radius=10)
    p.rect((x0 + 18, 110, x1 - 18, 200), fill=_shade(c, 0.9), outline=dark, radius=22)
    seats = 2 if variant == "small" else 3
    width = (x1 - x0 - 60) / seats
    for i in range(seats):
        sx = x0 + 30 + i * width
        p.rect((sx, 178, sx + width, 210), fill=_shade(c, 1.12), outline=dark, radius=10)
    p.rect((x0 + 20, 205, x1 - 20, 245), fill=c, outline=dark, radius=8)
    p.rect((x0, 150, x0 + 38, 245), fill=c, outline=dark, radius=16)  # arms
    if variant != "sectional":
        p.rect((x1 - 38, 150, x1, 245), fill=c, outline=dark, radius=16)
    for lx in (x0 + 12, x1 - 22):
        p.polygon([(lx, 245), (lx + 10, 245), (lx + 8, 275), (lx + 3, 275)], fill=(110, 80, 55))
    p.rect((x0 + 50, 140, x0 + 95, 180), fill=a, radius=8)  # a cushion for scale


def _pillow(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    if variant == "round":
        p.ellipse((50, 70, 270, 270), fill=c, outline=dark, width=4)
        for i in range(12):  # pleats gathered to a centre button
            t = 2 * math.pi * i / 12
            p.line([(160, 170), (160 + 100 * math.cos(t), 170 + 100 * math.sin(t))], dark, 2)
        p.ellipse((150, 160, 170, 180), fill=a)
        return
    box = (40, 105, 280, 225) if variant == "lumbar" else (65, 65, 255, 255)
    x0, y0, x1, y1 = box
    p.rect(box, fill=c, outline=dark, radius=34, width=4)
    if variant == "stripes":
        for x in range(x0 + 30, x1 - 20, 32):
            p.rect((x, y0 + 6, x + 12, y1 - 6), fill=a)
    elif variant == "dots":
        for gx in range(x0 + 30, x1 - 15, 30):
            for gy in range(y0 + 30, y1 - 15, 30):
                p.ellipse((gx - 6, gy - 6, gx + 6, gy + 6), fill=a)
    else:
        p.rect((x0 + 20, y0 + 20, x1 - 20, y1 - 20), fill=None, outline=a, radius=20, width=3)
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):  # tassels
        p.line([(x, y), (x + (8 if x < 160 else -8), y + (12 if y > 160 else -12))], a, 4)


def _watch(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    strap = _shade(c, 0.8) if c != PALETTE["silver"] else (90, 70, 50)
    p.rect((130, 20, 190, 120), fill=strap, radius=10)
    p.rect((130, 200, 190, 300), fill=strap, radius=10)
    for y in (230, 250, 270):
        p.ellipse((156, y, 164, y + 8), fill=_shade(strap, 0.6))
    case = PALETTE["gold"] if c == PALETTE["gold"] else _STEEL
    if variant == "smart":
        p.rect((100, 90, 220, 230), fill=case, outline=_shade(case, 0.6), radius=30, width=4)
        p.rect((110, 100, 210, 220), fill=(20, 20, 24), radius=22)
        for r, tone in ((40, a), (28, c)):
            p.arc((160 - r, 160 - r, 160 + r, 160 + r), 270, 150, fill=tone, width=8)
        return
    p.rect((215, 150, 230, 170), fill=case, radius=3)  # crown
    p.ellipse((92, 92, 228, 228), fill=case, outline=_shade(case, 0.6), width=4)
    dial = (245, 243, 236) if sum(c) > 600 else c
    p.ellipse((104, 104, 216, 216), fill=dial)
    marks = (230, 230, 230) if sum(dial) < 400 else (40, 40, 44)
    for i in range(12):
        t = 2 * math.pi * i / 12
        p.line(
            [(160 + 44 * math.cos(t), 160 + 44 * math.sin(t)),
             (160 + 52 * math.cos(t), 160 + 52 * math.sin(t))],
            fill=marks, width=3,
        )  # fmt: skip
    p.line([(160, 160), (160, 118)], fill=marks, width=4)
    p.line([(160, 160), (192, 172)], fill=marks, width=5)
    p.line([(160, 160), (132, 190)], fill=a, width=2)


_Drawer = Callable[[_Pen, RGB, RGB, str], None]
_DRAWERS: dict[str, tuple[_Drawer, str]] = {
    "towel": (_towel, ""),
    "towel_beach": (_towel, "beach"),
    "towel_stack": (_towel_stack, ""),
    "saw_circular": (_saw_circular, ""),
    "saw_band": (_saw_band, ""),
    "saw_jig": (_saw_jig, ""),
    "saw_recip": (_saw_recip, ""),
    "mug": (_mug, ""),
    "mug_wide": (_mug, "wide"),
    "mug_small": (_mug, "small"),
    "mug_travel": (_mug_travel, ""),
    "pan": (_pan, ""),
    "pot": (_pot, ""),
    "pot_small": (_pot, "small"),
    "sneaker": (_sneaker, ""),
    "sneaker_high": (_sneaker, "high"),
    "tshirt": (_tshirt, ""),
    "tshirt_v": (_tshirt, "v"),
    "tshirt_pocket": (_tshirt, "pocket"),
    "tshirt_long": (_tshirt, "long"),
    "tshirt_stripes": (_tshirt, "stripes"),
    "backpack": (_backpack, ""),
    "backpack_roll": (_backpack, "roll"),
    "lamp": (_lamp, ""),
    "lamp_bar": (_lamp, "bar"),
    "headphones": (_headphones, ""),
    "earbuds": (_earbuds, ""),
    "yoga_mat": (_yoga_mat, ""),
    "yoga_mat_flat": (_yoga_mat, "flat"),
    "sofa": (_sofa, ""),
    "sofa_small": (_sofa, "small"),
    "sofa_sectional": (_sofa, "sectional"),
    "pillow": (_pillow, ""),
    "pillow_stripes": (_pillow, "stripes"),
    "pillow_dots": (_pillow, "dots"),
    "pillow_lumbar": (_pillow, "lumbar"),
    "pillow_round": (_pillow, "round"),
    "watch": (_watch, ""),
    "smartwatch": (_watch, "smart"),
}
# What a kind in products.json may name as its shape.
SHAPES: frozenset[str] = frozenset(_DRAWERS)


def render_illustration(product: dict[str, Any]) -> bytes:
    """The PNG drawing of a demo product: its item type in its colour on a light
    background. Same product dict, same bytes."""
    spec = product["illustration"]
    drawer, variant = _DRAWERS[spec["shape"]]
    size = IMAGE_SIZE * _SUPERSAMPLE
    image = Image.new("RGB", (size, size), _BACKGROUND)
    pen = _Pen(ImageDraw.Draw(image), _SUPERSAMPLE)
    pen.ellipse((40, 272, 280, 304), fill=_SHADOW)  # floor shadow grounds every item
    drawer(pen, PALETTE[spec["color"]], PALETTE[spec["accent"]], variant)
    image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
