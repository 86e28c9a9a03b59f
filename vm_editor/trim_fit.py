"""How a trim moved a cue's cuts: the anchors a re-fit re-times its notes through.

Why: a cue whose shots are the same shots in the same order, each only trimmed (a head or a tail
moved by a few frames, a gap shortened), can keep its music: every cut of the old cue maps to the
same cut of the new one, and between two cuts the notes need only a small tempo change. Anything
else — a shot added, removed, replaced, reordered, slipped or re-timed — is not a trim, and its
cue is regenerated instead. Pure functions over `engine.api.CueProgram`s (cue seconds).
"""

from __future__ import annotations

from engine.api import MAX_REFIT_TEMPO_CHANGE, CueProgram, ProgramSegmentSpec

Anchors = tuple[tuple[float, float], ...]
_SAME_S = 1e-3  # within a millisecond: the same media time (a frame is 20 ms or more)


def _same_shot(old: ProgramSegmentSpec, new: ProgramSegmentSpec) -> bool:
    """The same shot, trimmed at most at one end: same media, same speed, one edge unchanged."""
    if old.path != new.path or abs(old.speed - new.speed) > 1e-6:
        return False
    if old.path is None:
        return True  # black: any length
    lo_old, hi_old = sorted((old.source_start_s, old.source_end_s))
    lo_new, hi_new = sorted((new.source_start_s, new.source_end_s))
    if min(hi_old, hi_new) - max(lo_old, lo_new) <= 0:
        return False  # no picture in common: another part of the media
    if abs(old.speed) < 1e-9:
        return abs(old.source_start_s - new.source_start_s) < _SAME_S  # one frozen frame
    return (
        abs(old.source_start_s - new.source_start_s) < _SAME_S
        or abs(old.source_end_s - new.source_end_s) < _SAME_S
    )


def trim_anchors(old: CueProgram, new: CueProgram) -> Anchors | None:
    """(old second, new second) at each cut and at the end when `new` is `old` with its shots
    trimmed; None when it is not a trim, or nothing changed."""
    if len(old.segments) != len(new.segments) or not old.segments:
        return None
    if not all(_same_shot(a, b) for a, b in zip(old.segments, new.segments, strict=True)):
        return None
    anchors = [(a.record_start_s, b.record_start_s) for a, b in zip(old.segments, new.segments, strict=True)]
    anchors.append((old.duration_s, new.duration_s))
    if all(abs(a - b) < _SAME_S for a, b in anchors):
        return None
    return tuple((float(a), float(b)) for a, b in anchors)


def tempo_change(anchors: Anchors) -> float:
    """The largest tempo change between two anchors (0.03 = 3 % faster or slower)."""
    steps = zip(anchors, anchors[1:], strict=False)
    return max((abs((b1 - b0) / (a1 - a0) - 1.0) for (a0, b0), (a1, b1) in steps if a1 > a0), default=0.0)


def fits(anchors: Anchors | None, limit: float = MAX_REFIT_TEMPO_CHANGE) -> bool:
    """Whether a re-fit can play the trim: within `limit` everywhere."""
    return anchors is not None and tempo_change(anchors) <= limit + 1e-9
