"""Where the picture changes world: the places a cue may split and its style may change.

A world is a stretch of the program shot from one place in one look. On real footage the
strongest sign of another world is another source: a different media file. But editors cut
between several camera files of one scene, and one file's own scenes (its baked-in cuts, a
film's shots) differ in brightness and palette as much as two sources do, so neither alone
decides it. The rule, calibrated on the sample clips (bikes, counter, testvideo; see
`tests/test_worlds.py`):

- shots of one source are one world, never split on their pictures alone (testvideo's own
  scenes differ by up to 4.1 in `picture_distance`, bikes' 2 s pieces by up to 3.3);
- a cut from one source to another changes world when the two sources look different: each
  source's look is that of all its shots in the program (`ShotPicture`s from the engine, averaged
  by screen time), and they differ by more than `WORLD_THRESHOLD` (bikes cut into two "camera
  files" of one ride: 1.5-1.6; bikes, counter and testvideo against each other: 3.5-5.7).

Spans are record frames; this module is pure (the engine measures the pictures).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from engine.api import ProgramSegmentSpec, ShotPicture
from vm_editor.cue_plan import shot_spec
from vm_editor.program import Program, Segment
from vm_editor.scenes import SceneList

WORLD_THRESHOLD = 2.5
# What one unit of `picture_distance` is, per statistic: about the spread of that statistic
# between the shots of one ride (bikes), so each counts alike. Palette counts least: one source's
# hue histogram swings with every shot.
SCALES = {"luma": 0.1, "contrast": 0.1, "saturation": 0.1, "colour": 0.5, "motion": 0.1, "hues": 1.0}
Look = Callable[[Sequence[ProgramSegmentSpec]], list[ShotPicture | None]]


def picture_distance(a: ShotPicture, b: ShotPicture) -> float:
    """How far apart two looks are: scaled absolute differences of brightness, contrast,
    saturation, colour share (black-and-white against colour), motion and palette, summed."""
    d = sum(abs(getattr(a, k) - getattr(b, k)) / s for k, s in SCALES.items() if k != "hues")
    palette = 0.5 * sum(abs(x - y) for x, y in zip(a.hues, b.hues, strict=False))
    return d + palette / SCALES["hues"]


def mean_picture(looks: Sequence[tuple[ShotPicture, float]]) -> ShotPicture:
    """The look of several shots together, each weighted by its screen time."""
    total = sum(w for _, w in looks) or 1.0

    def avg(key: str) -> float:
        return sum(getattr(p, key) * w for p, w in looks) / total

    bins = len(looks[0][0].hues)
    return ShotPicture(
        luma=avg("luma"),
        contrast=avg("contrast"),
        saturation=avg("saturation"),
        colour=avg("colour"),
        hues=tuple(sum(p.hues[i] * w for p, w in looks) / total for i in range(bins)),
        motion=avg("motion"),
    )


def _source(seg: Segment) -> str:
    return str(seg.path) if seg.path is not None else (seg.url or "")


def world_starts(
    pictures: Sequence[Segment],
    looks: Sequence[ShotPicture | None],
    threshold: float = WORLD_THRESHOLD,
) -> list[int]:
    """Record frames where a new world starts, in order (never the first shot): cuts from one
    source to another whose looks differ by more than `threshold`. A source's look is that of all
    its shots in the program together, so one shot of a ride unlike the rest (a dark corner, a
    close-up) does not make its file another world."""
    by_source: dict[str, list[tuple[ShotPicture, float]]] = {}
    for seg, look in zip(pictures, looks, strict=True):
        if look is not None:
            by_source.setdefault(_source(seg), []).append((look, float(seg.record.duration.to_seconds())))
    source_look = {source: mean_picture(found) for source, found in by_source.items()}
    starts: list[int] = []
    for before, after in zip(pictures, pictures[1:], strict=False):
        a, b = source_look.get(_source(before)), source_look.get(_source(after))
        if _source(before) != _source(after) and a is not None and b is not None:
            if picture_distance(a, b) > threshold:
                starts.append(int(after.record.start_time.value))
    return starts


def program_worlds(program: Program, look: Look, threshold: float = WORLD_THRESHOLD) -> list[int]:
    """`world_starts` over a program's pictures, their looks measured by `look` (the engine's
    `shot_pictures`). Offline shots are not measured: they never start a world."""
    pictures = program.pictures()
    if len(pictures) < 2 or len({_source(s) for s in pictures}) < 2:
        return []
    return world_starts(pictures, look([shot_spec(s) for s in pictures]), threshold)


def with_worlds_of(program: Program, scene_list: SceneList) -> Program:
    """`program` with the world changes its planned cues carry (None where none was decided), so
    cues merged or split later keep them."""
    cues = [s.program for s in scene_list.scenes if s.program is not None]
    if not any(p.world_changes is not None for p in cues):
        return program
    starts = {int(t.value): t for p in cues for t in p.world_changes or ()}
    return replace(program, world_changes=tuple(starts[f] for f in sorted(starts)))
