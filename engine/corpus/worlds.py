"""The corpus's visual worlds, each tied to one musical style.

Why: a model can only learn "pictures -> style" if the corpus pairs them consistently. Each world
is distinct on both sides (palette, shapes, motion / timbre, mode, register, tempo, density), so a
style classifier can tell worlds apart from audio alone and a visual encoder from pictures alone.
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}


@dataclass(frozen=True)
class World:
    """One visual world and its musical style. All fields are plain data (JSON-friendly)."""

    name: str
    # --- pictures ---
    backgrounds: tuple[tuple[RGB, RGB], ...]  # (top, bottom) gradient pairs; a cut picks another
    colors: tuple[RGB, ...]  # shape colours
    flash_color: RGB
    shape: str  # circle | square | triangle | bar | ring
    shape_count: tuple[int, int]  # inclusive range per shot
    shape_size: tuple[float, float]  # radius range, fraction of the frame
    motion: str  # orbit | drift | sway | float | march
    accent_moves: tuple[str, ...]  # jump | grow | spin | recolor (applied on every accent)
    texture: str  # none | vignette | scanlines | checker
    # --- music ---
    tempo_bpm: tuple[float, float]
    mode: str
    root_midi: tuple[int, int]  # inclusive range of the key's root (sets the register)
    subdivision: int  # grid steps per beat where events may fall (1 = quarters, 2 = eighths)
    density: float  # probability scale of events off the downbeat
    cut_prob: float  # chance that a downbeat event is a cut
    flash_prob: float  # chance that a non-cut event is a flash
    lead: str  # sine | saw | square | pulse | bell | pluck
    bass: str
    pad: str
    kit: str  # punchy | heavy | soft | chip | brush
    backbeat: bool  # snare on beats 2 and 4 of on-beat accents
    mix: tuple[float, float, float, float]  # levels of drums, bass, lead, pad
    tone_hz: float  # one-pole low-pass on the whole mix: warm (low) or bright (high)
    progression: tuple[int, ...]  # scale degrees (0-based) the bars cycle through
    tags: tuple[str, ...]  # words of the style text ("bright synth pop, major, fast")


WORLDS: tuple[World, ...] = (
    World(
        name="neon_pop",
        backgrounds=(((18, 8, 48), (60, 10, 90)), ((8, 20, 60), (30, 0, 70)), ((40, 0, 60), (10, 10, 30))),
        colors=((255, 40, 200), (40, 240, 255), (255, 230, 40)),
        flash_color=(255, 255, 255),
        shape="circle",
        shape_count=(3, 5),
        shape_size=(0.07, 0.14),
        motion="orbit",
        accent_moves=("jump", "recolor"),
        texture="none",
        tempo_bpm=(118.0, 132.0),
        mode="major",
        root_midi=(60, 67),
        subdivision=2,
        density=0.55,
        cut_prob=0.5,
        flash_prob=0.15,
        lead="square",
        bass="saw",
        pad="saw",
        kit="punchy",
        backbeat=True,
        mix=(0.9, 0.45, 0.35, 0.2),
        tone_hz=7000.0,
        progression=(0, 4, 5, 3),
        tags=("bright synth pop", "major", "fast", "punchy drums"),
    ),
    World(
        name="ember_rock",
        backgrounds=(((10, 0, 0), (70, 10, 0)), ((30, 5, 0), (5, 0, 0)), ((50, 20, 0), (20, 0, 0))),
        colors=((255, 90, 20), (255, 180, 40), (200, 20, 20)),
        flash_color=(255, 200, 120),
        shape="triangle",
        shape_count=(4, 7),
        shape_size=(0.08, 0.15),
        motion="sway",
        accent_moves=("jump", "spin"),
        texture="vignette",
        tempo_bpm=(92.0, 108.0),
        mode="minor",
        root_midi=(40, 47),
        subdivision=2,
        density=0.45,
        cut_prob=0.6,
        flash_prob=0.2,
        lead="saw",
        bass="square",
        pad="square",
        kit="heavy",
        backbeat=True,
        mix=(1.0, 0.6, 0.25, 0.15),
        tone_hz=2500.0,
        progression=(0, 5, 2, 6),
        tags=("dark driving rock", "minor", "mid tempo", "heavy low saw bass"),
    ),
    World(
        name="ocean_ambient",
        backgrounds=(((0, 30, 60), (0, 90, 120)), ((0, 50, 80), (0, 20, 40)), ((10, 60, 90), (0, 40, 70))),
        colors=((120, 220, 255), (180, 255, 240), (60, 160, 220)),
        flash_color=(220, 255, 255),
        shape="ring",
        shape_count=(2, 3),
        shape_size=(0.16, 0.26),
        motion="float",
        accent_moves=("grow", "jump"),
        texture="none",
        tempo_bpm=(64.0, 76.0),
        mode="lydian",
        root_midi=(62, 69),
        subdivision=1,
        density=0.65,
        cut_prob=0.35,
        flash_prob=0.1,
        lead="bell",
        bass="sine",
        pad="sine",
        kit="soft",
        backbeat=False,
        mix=(0.45, 0.35, 0.45, 0.45),
        tone_hz=1800.0,
        progression=(0, 1, 0, 4),
        tags=("calm ambient", "lydian", "slow", "soft bells and pads"),
    ),
    World(
        name="forest_folk",
        backgrounds=(
            ((30, 50, 20), (70, 90, 40)),
            ((50, 40, 20), (20, 40, 10)),
            ((60, 80, 40), (30, 30, 10)),
        ),
        colors=((110, 70, 30), (150, 200, 80), (60, 120, 40)),
        flash_color=(255, 250, 200),
        shape="bar",
        shape_count=(4, 6),
        shape_size=(0.03, 0.06),
        motion="march",
        accent_moves=("jump",),
        texture="scanlines",
        tempo_bpm=(96.0, 112.0),
        mode="dorian",
        root_midi=(55, 62),
        subdivision=2,
        density=0.4,
        cut_prob=0.45,
        flash_prob=0.1,
        lead="pluck",
        bass="pluck",
        pad="triangle",
        kit="brush",
        backbeat=False,
        mix=(0.6, 0.4, 0.6, 0.15),
        tone_hz=3500.0,
        progression=(0, 3, 0, 6),
        tags=("acoustic folk", "dorian", "moderate", "plucked strings"),
    ),
    World(
        name="retro_arcade",
        backgrounds=(((20, 0, 40), (20, 0, 40)), ((0, 0, 0), (30, 0, 50)), ((40, 10, 60), (10, 0, 20))),
        colors=((255, 170, 0), (170, 80, 255), (255, 255, 120)),
        flash_color=(255, 170, 0),
        shape="square",
        shape_count=(3, 6),
        shape_size=(0.05, 0.1),
        motion="drift",
        accent_moves=("jump", "spin", "recolor"),
        texture="checker",
        tempo_bpm=(136.0, 148.0),
        mode="mixolydian",
        root_midi=(69, 76),
        subdivision=2,
        density=0.6,
        cut_prob=0.4,
        flash_prob=0.25,
        lead="pulse",
        bass="square",
        pad="pulse",
        kit="chip",
        backbeat=True,
        mix=(0.8, 0.35, 0.4, 0.25),
        tone_hz=7900.0,
        progression=(0, 6, 3, 4),
        tags=("chiptune arcade", "mixolydian", "very fast", "8-bit pulse waves"),
    ),
)

WORLD_NAMES: tuple[str, ...] = tuple(w.name for w in WORLDS)


def world_by_name(name: str) -> World:
    """The world called `name`; KeyError lists the known ones."""
    for world in WORLDS:
        if world.name == name:
            return world
    raise KeyError(f"unknown world {name!r}; known: {', '.join(WORLD_NAMES)}")


def style_text(world: World, tempo_bpm: float) -> str:
    """The style prompt a text encoder sees for a clip of this world at this tempo."""
    return ", ".join(world.tags) + f", {round(tempo_bpm)} bpm"
