"""The eight visual worlds of the symbolic corpus, one per musical style (score.STYLES).

Why: a model learns "pictures -> style" only if the pairing is consistent and the worlds differ in
what an image encoder sees at once — palette, shape, motion, texture — so each world here differs
from every other in at least two of those. The world's name is its style's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.symbolic.score import STYLES

RGB = tuple[int, int, int]
SHAPES = ("triangle", "circle", "bar", "ring", "square", "diamond", "blob", "slash")
MOTIONS = ("rise", "drift", "sway", "orbit", "march", "bob", "float", "rush")
TEXTURES = ("letterbox", "none", "scanlines", "grid", "stripes", "checker", "grain", "diagonal")


@dataclass(frozen=True)
class StyleWorld:
    name: str  # = the style it is tied to
    backgrounds: tuple[tuple[RGB, RGB], ...]  # (top, bottom) gradients; each shot picks one
    colors: tuple[RGB, ...]
    flash_color: RGB
    shape: str
    shape_count: tuple[int, int]
    shape_size: tuple[float, float]  # radius range, fraction of the frame
    motion: str
    speed: float  # motion amplitude scale
    texture: str


STYLE_WORLDS: dict[str, StyleWorld] = {
    w.name: w
    for w in (
        StyleWorld(
            "cinematic_strings",
            (((10, 20, 60), (150, 90, 40)), ((20, 10, 50), (190, 120, 50)), ((5, 30, 70), (120, 70, 50))),
            ((240, 200, 120), (255, 230, 170), (60, 40, 40)),
            (255, 240, 200),
            "triangle",
            (2, 4),
            (0.15, 0.26),
            "rise",
            1.0,
            "letterbox",
        ),
        StyleWorld(
            "piano_ballad",
            (
                ((235, 200, 190), (190, 140, 140)),
                ((225, 210, 180), (170, 130, 120)),
                ((240, 220, 210), (200, 150, 160)),
            ),
            ((255, 245, 230), (250, 180, 170), (200, 120, 130)),
            (255, 250, 240),
            "circle",
            (4, 7),
            (0.04, 0.1),
            "drift",
            0.6,
            "none",
        ),
        StyleWorld(
            "indie_rock",
            (((60, 5, 5), (10, 0, 0)), ((90, 20, 0), (20, 0, 0)), ((40, 0, 10), (5, 0, 0))),
            ((255, 60, 30), (255, 170, 40), (240, 240, 230)),
            (255, 220, 160),
            "bar",
            (4, 7),
            (0.025, 0.05),
            "sway",
            0.5,
            "scanlines",
        ),
        StyleWorld(
            "electronic_pulse",
            (((5, 0, 25), (30, 0, 60)), ((0, 10, 30), (10, 0, 40)), ((20, 0, 40), (0, 0, 10))),
            ((255, 40, 220), (40, 240, 255), (140, 80, 255)),
            (200, 255, 255),
            "ring",
            (2, 4),
            (0.1, 0.2),
            "orbit",
            1.0,
            "grid",
        ),
        StyleWorld(
            "acoustic_folk",
            (((120, 160, 80), (60, 90, 30)), ((150, 170, 90), (80, 70, 30)), ((110, 140, 60), (70, 60, 25))),
            ((110, 70, 30), (230, 200, 90), (50, 100, 40)),
            (255, 250, 210),
            "square",
            (4, 7),
            (0.04, 0.08),
            "march",
            0.8,
            "stripes",
        ),
        StyleWorld(
            "jazz_trio",
            (((70, 40, 20), (25, 12, 8)), ((90, 55, 25), (35, 18, 10)), ((60, 30, 15), (15, 8, 5))),
            ((230, 180, 60), (200, 200, 220), (150, 40, 60)),
            (255, 220, 140),
            "diamond",
            (3, 5),
            (0.06, 0.11),
            "bob",
            0.8,
            "checker",
        ),
        StyleWorld(
            "ambient",
            (
                ((190, 225, 230), (120, 180, 200)),
                ((210, 235, 240), (150, 200, 210)),
                ((170, 210, 220), (110, 160, 190)),
            ),
            ((240, 255, 255), (170, 220, 230), (200, 240, 220)),
            (255, 255, 255),
            "blob",
            (1, 3),
            (0.2, 0.32),
            "float",
            0.4,
            "grain",
        ),
        StyleWorld(
            "action_percussion",
            (((250, 110, 0), (60, 10, 0)), ((30, 30, 30), (200, 80, 0)), ((220, 60, 0), (20, 20, 20))),
            ((10, 10, 10), (255, 230, 0), (255, 255, 255)),
            (255, 255, 200),
            "slash",
            (3, 6),
            (0.05, 0.12),
            "rush",
            1.6,
            "diagonal",
        ),
    )
}


def world_for(style_name: str) -> StyleWorld:
    try:
        return STYLE_WORLDS[style_name]
    except KeyError:
        raise KeyError(f"unknown world {style_name!r}; known: {', '.join(STYLES)}") from None
