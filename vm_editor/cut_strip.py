"""What the cut view draws, without Qt: the shots of the scored track in record frames, their
edit points and markers, the cues as spans over them, and where a dragged cue edge snaps.

The shots are the editor's clips as the timeline shows them (one per visible span of a clip on
the scored track, black where there is none), so a timeline cut from one long file still shows
its cuts. Each shot's still and rhythm curve come from the engine (`Engine.preview`), one call
per shot, tagged with the timeline generation like the panel's own previews. `ui/cut_view.py`
paints this; the model changes (moving a cue edge) go through `PanelModel`.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.api import Preview
from vm_editor.panel_model import PanelModel
from vm_editor.scenes import extract_scenes

Span = tuple[int, int]  # record frames [lo, hi)


@dataclass(frozen=True)
class Mark:
    """Something drawn over the shots: a title on screen, a dissolve, a speed change ("50 %",
    "reverse", "freeze"), over record frames [start, end)."""

    start: int
    end: int
    label: str


def speed_label(speed: float) -> str | None:
    """How an editor reads a clip's speed: None at 100 %."""
    if speed == 1:
        return None
    if speed == 0:
        return "freeze"
    percent = f"{abs(float(speed)) * 100:.0f} %"
    return f"reverse {percent}" if speed < 0 else percent


@dataclass
class Shot:
    """One shot of the strip: record frames [start, end) at the program's rate."""

    start: int
    end: int
    name: str
    kind: str = "clip"  # clip | black | generator | missing
    offline: bool = False
    media: tuple[str, float, float] | None = None  # (path, source start s, source end s) for its still
    thumbnail: bytes = b""  # PNG
    rhythm: list[float] = field(default_factory=list)  # peaks of the rhythm curve across the shot


def _preview(call: Callable[[], Preview], generation: int) -> dict:
    return {**dataclasses.asdict(call()), "generation": generation}


class CutStrip:
    """The strip's data for the timeline `model` has open, rebuilt whenever it opens another."""

    def __init__(self, model: PanelModel):
        self.model = model
        self._generation = -1
        self._shots: list[Shot] = []
        self._edits: list[int] = []
        self._markers: list[tuple[int, str]] = []
        self._titles: list[Mark] = []
        self._dissolves: list[Mark] = []
        self._speeds: list[Mark] = []

    def _refresh(self) -> None:
        if self._generation == self.model.generation:
            return
        self._generation = self.model.generation
        self._shots, self._edits, self._markers = [], [], []
        self._titles, self._dissolves, self._speeds = [], [], []
        program = self.model.program
        if program is None:
            return
        self._marks(program)
        rate = program.rate
        track = self.model.scene_list.track_index or None
        pieces = extract_scenes(
            self.model.timeline,
            track=track,
            timeline_path=self.model.timeline_path,
            relink=self.model.options.relink,  # the shots a relink found show their stills
        )
        cursor = 0
        for piece in pieces.scenes:
            lo = round(piece.record_range.start_time.rescaled_to(rate).value)
            hi = round(piece.record_range.end_time_exclusive().rescaled_to(rate).value)
            if lo > cursor:
                self._shots.append(Shot(cursor, lo, "black", kind="black"))
            media = None
            if piece.source is not None and piece.source.exists:
                mr = piece.source.media_range
                media = (
                    str(piece.source.path),
                    mr.start_time.to_seconds(),
                    mr.end_time_exclusive().to_seconds(),
                )
            self._shots.append(Shot(lo, hi, piece.name, piece.kind, piece.offline, media))
            cursor = hi
        total = round(program.record.duration.value)
        if total > cursor:
            self._shots.append(Shot(cursor, total, "black", kind="black"))
        edits = {s.start for s in self._shots[1:]} | {round(e.at.value) for e in program.edit_points}
        self._edits = sorted(e for e in edits if 0 < e < total)
        self._markers = [(round(t.value), name) for t, name in program.markers]

    def _marks(self, program) -> None:
        """Titles, dissolves and speed changes of the program, in record frames at its rate."""

        def frames(span) -> Span:
            lo = round(span.start_time.rescaled_to(program.rate).value)
            return lo, max(round(span.end_time_exclusive().rescaled_to(program.rate).value), lo + 1)

        self._titles = [Mark(*frames(span), name or "title") for span, name in program.titles]
        self._dissolves = [
            Mark(*frames(e.span), "dissolve") for e in program.edit_points if e.span is not None
        ]
        for segment in program.segments:
            label = None if segment.is_black else speed_label(segment.speed)
            if label is not None:
                lo, hi = frames(segment.record)
                if self._speeds and self._speeds[-1].label == label and self._speeds[-1].end == lo:
                    lo = self._speeds.pop().start  # one clip split by an overlay: one mark
                self._speeds.append(Mark(lo, hi, label))

    # -- what is drawn -------------------------------------------------------------------------
    def titles(self) -> list[Mark]:
        """Where a title or generator is on screen (over a picture or over black), named."""
        self._refresh()
        return self._titles

    def dissolves(self) -> list[Mark]:
        """Each dissolve's span (a cut is an edit point alone)."""
        self._refresh()
        return self._dissolves

    def speed_changes(self) -> list[Mark]:
        """Spans played at another speed than 100 %: slow, fast, reversed or frozen."""
        self._refresh()
        return self._speeds

    @property
    def rate(self) -> float:
        program = self.model.program
        return program.rate if program is not None else self.model.rate

    @property
    def total_frames(self) -> int:
        program = self.model.program
        return max(round(program.record.duration.value), 1) if program is not None else 1

    def shots(self) -> list[Shot]:
        self._refresh()
        return self._shots

    def edit_points(self) -> list[int]:
        """Record frames where the picture changes (cuts between clips and the program's edits)."""
        self._refresh()
        return self._edits

    def markers(self) -> list[tuple[int, str]]:
        self._refresh()
        return self._markers

    def cue_spans(self) -> list[Span]:
        rate = self.rate
        return [
            (
                round(r.scene.record_range.start_time.rescaled_to(rate).value),
                round(r.scene.record_range.end_time_exclusive().rescaled_to(rate).value),
            )
            for r in self.model.rows
        ]

    def cue_at(self, frame: float) -> int | None:
        """The cue under record frame `frame`, if any."""
        for position, (lo, hi) in enumerate(self.cue_spans()):
            if lo <= frame < hi:
                return position
        return None

    # -- moving a cue edge ---------------------------------------------------------------------
    def edge_frame(self, position: int, edge: str) -> int:
        lo, hi = self.cue_spans()[position]
        return lo if edge == "start" else hi

    def edge_limits(self, position: int, edge: str) -> Span:
        """The open interval of frames the edge may move to: the cue keeps at least one frame,
        and an edge never passes the next cue's far edge (a touching neighbour moves with it)
        nor crosses into a cue that does not touch."""
        spans = self.cue_spans()
        lo, hi = spans[position]
        if edge == "end":
            if position + 1 < len(spans):
                nlo, nhi = spans[position + 1]
                return lo, (nhi if nlo == hi else nlo + 1)
            return lo, self.total_frames + 1
        if position > 0:
            plo, phi = spans[position - 1]
            return (plo if phi == lo else phi - 1), hi
        return -1, hi

    def snap(self, position: int, edge: str, frame: float) -> int | None:
        """The edit point nearest `frame` where the edge may go (None: no cut within reach)."""
        a, b = self.edge_limits(position, edge)
        allowed = [e for e in self.edit_points() if a < e < b]
        return min(allowed, key=lambda e: (abs(e - frame), e)) if allowed else None

    def neighbour_cut(self, position: int, edge: str, direction: int) -> int | None:
        """The next edit point before (direction -1) or after (+1) the edge, within its limits."""
        at = self.edge_frame(position, edge)
        a, b = self.edge_limits(position, edge)
        edits = self.edit_points()
        if direction < 0:
            i = bisect.bisect_left(edits, at) - 1
            found = edits[i] if i >= 0 else None
        else:
            i = bisect.bisect_right(edits, at)
            found = edits[i] if i < len(edits) else None
        return found if found is not None and a < found < b else None

    # -- stills and rhythm from the engine -----------------------------------------------------
    def preview_calls(self) -> list[tuple[int, Callable[[], dict]]]:
        """(shot, call) pairs fetching each shot's still and rhythm; answers carry the generation."""
        calls = []
        for index, shot in enumerate(self.shots()):
            if shot.media is None or self.model.engine is None:
                continue
            path, start, end = shot.media
            ask = functools.partial(self.model.engine.preview, path, start, max(end, start + 1e-3))
            calls.append((index, functools.partial(_preview, ask, self.model.generation)))
        return calls

    def apply_preview(self, index: int, doc: dict) -> bool:
        """Store one shot's answer; False when it is about a timeline no longer open."""
        self._refresh()
        if doc.get("generation", self._generation) != self._generation or not 0 <= index < len(self._shots):
            return False
        shot = self._shots[index]
        shot.rhythm = [float(v) for v in doc.get("rhythm", [])]
        shot.thumbnail = base64.b64decode(doc.get("thumbnail_png_base64", ""))
        return True
