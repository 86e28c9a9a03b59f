"""Time mapping: what picture is visible at each record time of one track, exactly.

Why a module of its own: nested stacks (compound clips), speed effects, transitions and mixed
rates all change how an item's own time relates to the record time of the timeline. Every map
here is linear, `outer = r0 + (inner - t0) / speed`, computed with `Fraction` seconds so that a
two-hour 23.976 timeline does not drift; record boundaries become whole frames only at the end
(`frames_at`), and a boundary shared by two neighbours rounds to the same frame for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import opentimelineio as otio

RationalTime = otio.opentime.RationalTime

_NTSC = {
    24: Fraction(24000, 1001),
    30: Fraction(30000, 1001),
    48: Fraction(48000, 1001),
    60: Fraction(60000, 1001),
    120: Fraction(120000, 1001),
}


def exact_rate(rate: float) -> Fraction:
    """The exact rate a float stands for: 23.976 and 23.976023976… both mean 24000/1001."""
    for nominal, ntsc in _NTSC.items():
        if abs(rate - float(ntsc)) < 0.0015 and abs(rate - nominal) > 0.01:
            return ntsc
    return Fraction(rate).limit_denominator(1001)


def seconds(t: RationalTime) -> Fraction:
    """A RationalTime as exact seconds (its value is a frame count at an exact rate)."""
    return Fraction(t.value).limit_denominator(1_000_000) / exact_rate(t.rate)


def frames_at(t: Fraction, rate: float) -> int:
    """Exact seconds to the nearest whole frame at `rate` (halves round up, never banker's)."""
    x = t * exact_rate(rate)
    return int((x + Fraction(1, 2)) // 1)


def to_rational(t: Fraction, rate: float) -> RationalTime:
    return RationalTime(frames_at(t, rate), rate)


@dataclass(frozen=True)
class Linear:
    """outer = r0 + (inner - t0) / speed; speed 0 is a freeze frame at inner time t0."""

    t0: Fraction
    r0: Fraction
    speed: Fraction = Fraction(1)

    def outer(self, inner: Fraction) -> Fraction:
        if self.speed == 0:
            return self.r0  # frozen: every inner time shows at the start (the caller stretches it)
        return self.r0 + (inner - self.t0) / self.speed

    def inner(self, outer: Fraction) -> Fraction:
        return self.t0 + (outer - self.r0) * self.speed

    def then(self, parent: Linear) -> Linear:
        """This map followed by `parent` (self's outer time is parent's inner time)."""
        return Linear(t0=self.t0, r0=parent.outer(self.r0), speed=self.speed * parent.speed)


@dataclass
class Piece:
    """A record-time span [lo, hi) where one item of the track is what the viewer sees."""

    lo: Fraction
    hi: Fraction
    item: otio.core.Item
    media_at_lo: Fraction  # the item's own (source) time shown at record time `lo`
    speed: Fraction  # source seconds per record second (0 = freeze frame)
    path: tuple[str, ...] = ()  # names of the compound clips it sits in

    def media_at(self, record: Fraction) -> Fraction:
        return self.media_at_lo + (record - self.lo) * self.speed


@dataclass
class Cut:
    """A transition between two pieces: the cut falls at `at`; the dissolve spans [lo, hi)."""

    at: Fraction
    lo: Fraction
    hi: Fraction
    name: str


@dataclass
class Layout:
    pieces: list[Piece] = field(default_factory=list)
    cuts: list[Cut] = field(default_factory=list)
    markers: list[tuple[Fraction, str, otio.core.Item | None]] = field(default_factory=list)


def item_speed(item: otio.core.Item) -> Fraction:
    """Product of the item's time warps: LinearTimeWarp scalars, FreezeFrame is 0."""
    speed = Fraction(1)
    for effect in item.effects:
        if isinstance(effect, otio.schema.FreezeFrame):
            speed = Fraction(0)
        elif isinstance(effect, otio.schema.LinearTimeWarp):
            speed *= Fraction(effect.time_scalar).limit_denominator(100_000)
    return speed


def _visible(item: otio.core.Item) -> bool:
    return bool(getattr(item, "enabled", True))


def layout_track(track: otio.schema.Track, to_record: Linear, path: tuple[str, ...] = ()) -> Layout:
    """Pieces, cuts and markers of one track whose own time maps to record time by `to_record`."""
    out = Layout()
    for marker in track.markers:
        out.markers.append((to_record.outer(seconds(marker.marked_range.start_time)), marker.name, None))
    for child in track:
        if isinstance(child, otio.schema.Transition):
            # OTIO places a transition's range at (cut - in_offset); the cut is where the next item starts
            cut = seconds(track.range_of_child(child).start_time) + seconds(child.in_offset)
            lo, hi = cut - seconds(child.in_offset), cut + seconds(child.out_offset)
            out.cuts.append(Cut(to_record.outer(cut), to_record.outer(lo), to_record.outer(hi), child.name))
            continue
        rng = track.range_of_child(child)
        start = seconds(rng.start_time)
        end = start + seconds(rng.duration)
        if to_record.speed == 0 and not start <= to_record.t0 < end:
            continue  # a frozen parent shows only the child under its frozen instant
        lo, hi = to_record.outer(start), to_record.outer(end)
        inner_start = seconds(child.trimmed_range().start_time)
        child_map = Linear(t0=inner_start, r0=start, speed=item_speed(child)).then(to_record)
        marks = [(child_map.outer(seconds(m.marked_range.start_time)), m.name) for m in child.markers]
        if isinstance(child, otio.schema.Gap):
            out.markers.extend((t, name, None) for t, name in marks)
            continue
        if not _visible(child):
            continue  # disabled: shows nothing, like a gap
        if isinstance(child, otio.schema.Clip):
            out.pieces.append(Piece(lo, hi, child, child_map.inner(lo), child_map.speed, path))
            out.markers.extend((t, name, child) for t, name in marks)
        elif isinstance(child, (otio.schema.Stack, otio.schema.Track)):
            sub = layout_composition(child, child_map, path + (child.name or "compound",))
            if child_map.speed == 0:  # frozen compound: its top piece at the frozen instant, stretched
                sub.pieces = sub.pieces[:1]
                for p in sub.pieces:
                    p.lo, p.hi = lo, hi
            for p in sub.pieces:  # trim to the compound's window in record time
                if p.lo < lo:
                    p.media_at_lo, p.lo = p.media_at(lo), lo
                p.hi = min(p.hi, hi)
            out.pieces.extend(p for p in sub.pieces if p.hi > p.lo)
            out.cuts.extend(c for c in sub.cuts if lo < c.at < hi)
            out.markers.extend(m for m in sub.markers if lo <= m[0] < hi)
            out.markers.extend((t, name, None) for t, name in marks)
    return out


def layout_composition(comp: otio.core.Composition, to_record: Linear, path: tuple[str, ...]) -> Layout:
    """A nested track, or a stack whose visible picture is its topmost video track with content."""
    if isinstance(comp, otio.schema.Track):
        return layout_track(comp, to_record, path)
    merged = Layout()
    for track in comp:  # bottom to top; upper layers paint over lower ones
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Video:
            continue
        if not _visible(track):
            continue
        # a track inside a stack starts at stack time 0; its own time starts at its trimmed start
        track_map = Linear(t0=seconds(track.trimmed_range().start_time), r0=Fraction(0)).then(to_record)
        layer = layout_track(track, track_map, path)
        merged.pieces = paint(merged.pieces, layer.pieces)
        merged.cuts.extend(layer.cuts)
        merged.markers.extend(layer.markers)
    for marker in comp.markers:
        merged.markers.append((to_record.outer(seconds(marker.marked_range.start_time)), marker.name, None))
    return merged


def paint(below: list[Piece], above: list[Piece]) -> list[Piece]:
    """Pieces of `below` cut away wherever `above` has a piece; the result sorted by time."""
    out: list[Piece] = list(above)
    for piece in below:
        spans = [(piece.lo, piece.hi)]
        for top in above:
            nxt = []
            for lo, hi in spans:
                if top.hi <= lo or top.lo >= hi:
                    nxt.append((lo, hi))
                    continue
                if lo < top.lo:
                    nxt.append((lo, top.lo))
                if top.hi < hi:
                    nxt.append((top.hi, hi))
            spans = nxt
        for lo, hi in spans:
            out.append(Piece(lo, hi, piece.item, piece.media_at(lo), piece.speed, piece.path))
    out.sort(key=lambda p: p.lo)
    return out
