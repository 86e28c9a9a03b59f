"""FCPXML (Final Cut Pro X, 1.3 to 1.11+) read exactly, in place of the otio_fcpx_xml_adapter reader.

Why not the adapter: it truncates frame rates to integers (23.976 becomes 23) and frame counts
with `int()`, places each clip at its own format's rate (a 25 fps asset in a 23.976 project
shifts the rest of the storyline), drops transitions, and loses every media path in 1.10+
files (`<media-rep src=…>` instead of `<asset src=…>`). Here every time is a `Fraction` of
seconds from the file; record positions become whole frames of the project's `frameDuration`
once, at the end, so nothing drifts.

Mapping: the sequence's `tcStart` is the timeline's start time (`global_start_time`; element
offsets count from it, so 01:00:00:00 is a start, never an hour of gap) and its `duration` the
length of every track. The primary storyline is track "Primary storyline", always present;
connected clips and connected storylines become tracks named "Lane N" (N > 0 above it, N < 0
below, audio-only lanes are audio tracks), so the picture under a lane of titles stays visible.
Compound clips (`ref-clip`) become nested stacks built from their `<media><sequence>` (with its
own tcStart); they are never taken for the project. A file with several projects: the first is
read unless `project` names one (by name or 1-based number). Auditions use the active pick;
`timeMap` becomes a LinearTimeWarp with the average speed; titles and generators get a
GeneratorReference; `mc-clip` (multicam) a MissingReference (flagged offline). Drop-frame
(`tcFormat="DF"`) and interlaced formats (`fieldOrder`, frameDuration of a frame, not a field)
are read at their frame rate and noted in the timeline's `fcpxml` metadata.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from vm_editor.errors import TimelineReadError
from vm_editor.input_guard import MAX_RATE

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange
SCORE_MD_KEY = "com.vidmusician.cue"
_CLIPS = {"asset-clip", "clip", "ref-clip", "sync-clip", "mc-clip", "video", "audio", "title"}


class FcpTimeError(ValueError):
    """A time attribute that is not a rational number of seconds ('1/0s', 'abc')."""


def fcp_time(text: str | None) -> Fraction:
    """'1001/24000s' or '5s' or '0s' as exact seconds."""
    if not text:
        return Fraction(0)
    try:
        return Fraction(text.strip().rstrip("s"))
    except (ValueError, ZeroDivisionError):
        raise FcpTimeError(f"the time {text[:40]!r} is not a number of seconds") from None


@dataclass
class _Placed:
    lo: Fraction
    hi: Fraction
    item: otio.core.Item
    audio_only: bool


@dataclass
class _Lanes:
    items: dict[int, list[_Placed]] = field(default_factory=dict)
    cuts: dict[int, list[tuple[Fraction, Fraction, str]]] = field(default_factory=dict)
    names: dict[int, tuple[str, dict]] = field(default_factory=dict)


class _Reader:
    def __init__(self, root: ET.Element, path: Path) -> None:
        self.root, self.path = root, path
        res = root.find("resources")
        res = res if res is not None else ET.Element("resources")
        self.formats = {e.get("id"): e for e in res.iter("format")}
        self.assets = {e.get("id"): e for e in res.iter("asset")}
        self.media = {e.get("id"): e for e in res.iter("media")}
        self.effects = {e.get("id"): e for e in res.iter("effect")}

    def frame_duration(self, format_id: str | None) -> Fraction:
        fmt = self.formats.get(format_id or "")
        if fmt is None or not fmt.get("frameDuration"):
            raise TimelineReadError(
                f"{self.path}: format {format_id!r} has no frameDuration; "
                "re-export the project from Final Cut"
            )
        text = fmt.get("frameDuration")
        duration = fcp_time(text)
        if duration <= 0 or duration < Fraction(1, int(MAX_RATE)):
            raise TimelineReadError(
                f"{self.path}: format {format_id!r} has frameDuration {text[:40]!r}, which is not the "
                f"length of a frame (above 0 s, at most {MAX_RATE:g} frames a second); re-export the "
                "project from Final Cut"
            )
        return duration

    def timeline(self, project: ET.Element) -> otio.schema.Timeline:
        seq = project.find("sequence")
        fd = self.frame_duration(seq.get("format"))
        self.rate = float(1 / fd)
        self.fd = fd
        tl = otio.schema.Timeline(name=project.get("name", ""))
        tl.tracks = self.stack(seq, project.get("name", ""))
        tl.global_start_time = RationalTime(round(fcp_time(seq.get("tcStart")) / fd), self.rate)
        fmt = self.formats.get(seq.get("format") or "")
        tl.metadata["fcpxml"] = {
            "version": self.root.get("version", ""),
            "frameDuration": str(fd),
            "project": project.get("name", ""),
            "tcStart": str(fcp_time(seq.get("tcStart"))),
            "duration": str(fcp_time(seq.get("duration"))),
            "drop_frame": seq.get("tcFormat") == "DF",
            "interlaced": fmt is not None and fmt.get("fieldOrder") not in (None, "progressive"),
        }
        return tl

    def stack(self, seq: ET.Element, name: str, source_range: TimeRange | None = None) -> otio.schema.Stack:
        """A sequence (the project's or a compound clip's) as a stack of tracks, each as long as it.

        Offsets in a sequence count from its `tcStart`; record time 0 is the sequence's first frame.
        """
        lanes = _Lanes()
        lanes.items[0] = []  # the primary storyline is a track even when empty
        start = fcp_time(seq.get("tcStart"))
        spine = seq.find("spine")
        if spine is not None:
            self.spine(spine, -start, 0, lanes)
        length = round(fcp_time(seq.get("duration")) / self.fd)
        if source_range is not None:
            source_range = TimeRange(source_range.start_time - self._t(start), source_range.duration)
        stack = otio.schema.Stack(name=name, source_range=source_range)
        for lane in sorted(lanes.items):
            for track in self.tracks_for_lane(lane, lanes, length):
                stack.append(track)
        return stack

    def spine(self, spine: ET.Element, origin: Fraction, lane: int, lanes: _Lanes) -> None:
        """Place a storyline's children; `origin` is the record time of the spine's time 0."""
        for el in spine:
            offset = origin + fcp_time(el.get("offset"))
            if el.tag == "transition":
                cut = (offset, fcp_time(el.get("duration")), el.get("name", ""))
                lanes.cuts.setdefault(lane, []).append(cut)
            elif el.tag == "audition":
                pick = next((c for c in el if c.tag in _CLIPS or c.tag == "gap"), None)
                if pick is not None:
                    pick.set("offset", el.get("offset", "0s"))
                    self.element(pick, offset, lane, lanes)
            elif el.tag in _CLIPS or el.tag == "gap":
                self.element(el, offset, lane, lanes)

    def element(self, el: ET.Element, lo: Fraction, lane: int, lanes: _Lanes) -> None:
        dur = fcp_time(el.get("duration"))
        start = fcp_time(el.get("start"))
        for child in el:  # connected clips and storylines, anchored in this element's own time
            if child.get("lane") is None:
                continue
            child_lane = int(child.get("lane"))
            anchor = lo + fcp_time(child.get("offset")) - start
            if child.tag == "spine":
                self.spine(child, anchor, child_lane, lanes)
                if child.get("name"):
                    lanes.names[child_lane] = (child.get("name"), {})
            elif child.tag in _CLIPS or child.tag == "audition":
                pick = child if child.tag != "audition" else next(c for c in child if c.tag in _CLIPS)
                self.element(pick, anchor, child_lane, lanes)
        if el.tag == "gap":
            gap = otio.schema.Gap(source_range=self._range(Fraction(0), dur))
            self._markers(el, gap)
            if gap.markers:
                lanes.items.setdefault(lane, []).append(_Placed(lo, lo + dur, gap, False))
            return
        item = self.item(el, start, dur)
        if el.get("enabled") == "0":
            item.enabled = False
        lanes.items.setdefault(lane, []).append(_Placed(lo, lo + dur, item, self._audio_only(el)))

    def item(self, el: ET.Element, start: Fraction, dur: Fraction) -> otio.core.Item:
        name = el.get("name", "")
        if el.tag == "ref-clip" and el.get("ref") in self.media:
            media = self.media[el.get("ref")]
            seq = media.find("sequence")
            if seq is not None:
                if el.get("start") is None:  # no in-point: the compound clip's own first frame
                    start = fcp_time(seq.get("tcStart"))
                item = self.stack(seq, name or media.get("name", ""), self._range(start, dur))
            else:
                item = otio.schema.Clip(
                    name=name,
                    media_reference=otio.schema.MissingReference(),
                    source_range=self._range(start, dur),
                )
        else:
            item = otio.schema.Clip(
                name=name, media_reference=self.reference(el), source_range=self._range(start, dur)
            )
        speed = self._speed(el)
        if speed is not None:
            item.effects.append(
                otio.schema.FreezeFrame()
                if speed == 0
                else otio.schema.LinearTimeWarp(time_scalar=float(speed))
            )
        self._markers(el, item)
        for md in el.iter("md"):
            if md.get("key") == SCORE_MD_KEY:
                item.metadata["vidmusician"] = json.loads(md.get("value", "{}"))
        return item

    def reference(self, el: ET.Element) -> otio.core.MediaReference:
        if el.tag == "mc-clip":
            return otio.schema.MissingReference(metadata={"fcpxml": {"multicam": el.get("ref", "")}})
        if el.tag == "title" or (el.tag == "video" and el.get("ref") in self.effects):
            return otio.schema.GeneratorReference(name=el.get("name", ""), generator_kind="fcpx_generator")
        ref = el.get("ref")
        if ref is None or ref not in self.assets:
            inner = next((c for c in el if c.tag in ("video", "asset-clip", "audio") and c.get("ref")), None)
            if inner is None:
                return otio.schema.MissingReference()
            return self.reference(inner)
        asset = self.assets[ref]
        rep = asset.find("media-rep")
        src = asset.get("src") or (rep.get("src") if rep is not None else None)
        if not src:
            return otio.schema.MissingReference()
        available = TimeRange(self._t(fcp_time(asset.get("start"))), self._t(fcp_time(asset.get("duration"))))
        return otio.schema.ExternalReference(target_url=src, available_range=available)

    def _audio_only(self, el: ET.Element) -> bool:
        if el.tag == "audio":
            return True
        if el.tag == "ref-clip":
            return el.get("srcEnable") == "audio"
        asset = self.assets.get(el.get("ref") or "")
        if el.tag == "asset-clip":
            return asset is not None and asset.get("hasVideo", "0") == "0"
        if el.tag in ("clip", "sync-clip"):  # a wrapper: audio-only when nothing inside is picture
            inner = [c for c in el.iter() if c is not el]
            return not any(c.tag in ("video", "asset-clip", "ref-clip", "title") for c in inner) and any(
                c.tag == "audio" for c in inner
            )
        return False

    @staticmethod
    def _speed(el: ET.Element) -> Fraction | None:
        tm = el.find("timeMap")
        if tm is None:
            return None
        pts = [(fcp_time(p.get("time")), fcp_time(p.get("value"))) for p in tm.findall("timept")]
        if len(pts) < 2 or pts[-1][0] == pts[0][0]:
            return None
        speed = (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])
        return None if speed == 1 else speed

    def _markers(self, el: ET.Element, item: otio.core.Item) -> None:
        for m in el:
            if m.tag in ("marker", "chapter-marker"):
                rng = TimeRange(self._t(fcp_time(m.get("start"))), self._t(fcp_time(m.get("duration"))))
                item.markers.append(otio.schema.Marker(name=m.get("value", ""), marked_range=rng))

    def _t(self, t: Fraction) -> RationalTime:
        return RationalTime(float(t / self.fd), self.rate)

    def _range(self, start: Fraction, dur: Fraction) -> TimeRange:
        return TimeRange(self._t(start), RationalTime(round(dur / self.fd), self.rate))

    def tracks_for_lane(self, lane: int, lanes: _Lanes, length: int) -> list[otio.schema.Track]:
        """One track per lane, `length` frames long (the sequence's duration); overlapping
        connected clips spill into extra tracks of that lane."""
        placed = sorted(lanes.items[lane], key=lambda p: p.lo)
        audio = bool(placed) and all(p.audio_only for p in placed)
        kind = otio.schema.TrackKind.Audio if audio else otio.schema.TrackKind.Video
        base = lanes.names.get(lane, ("Primary storyline" if lane == 0 else f"Lane {lane}", {}))[0]
        tracks: list[tuple[otio.schema.Track, list[int]]] = []
        for p in placed:
            lo, hi = round(p.lo / self.fd), round(p.hi / self.fd)
            target = next((t for t in tracks if t[1][0] <= lo), None)
            if target is None:
                name = base if not tracks else f"{base} ({len(tracks) + 1})"
                target = (otio.schema.Track(name=name, kind=kind), [0])
                tracks.append(target)
            track, cursor = target
            if lo > cursor[0]:
                track.append(
                    otio.schema.Gap(
                        source_range=TimeRange(
                            RationalTime(0, self.rate), RationalTime(lo - cursor[0], self.rate)
                        )
                    )
                )
            track.append(p.item)
            cursor[0] = max(hi, lo)
        if not tracks:
            tracks.append((otio.schema.Track(name=base, kind=kind), [0]))
        for track, cursor in tracks:  # every track as long as the sequence
            if length > cursor[0]:
                track.append(
                    otio.schema.Gap(
                        source_range=TimeRange(
                            RationalTime(0, self.rate), RationalTime(length - cursor[0], self.rate)
                        )
                    )
                )
        self._transitions(tracks[0][0], lanes.cuts.get(lane, []))
        return [t for t, _ in tracks]

    def _transitions(self, track: otio.schema.Track, cuts: list[tuple[Fraction, Fraction, str]]) -> None:
        """Insert each dissolve between the two items whose boundary it straddles."""
        for lo, dur, name in sorted(cuts, reverse=True):
            lo_f, hi_f = round(lo / self.fd), round((lo + dur) / self.fd)
            for i in range(1, len(track)):
                item = track[i]
                if isinstance(item, otio.schema.Transition):
                    continue
                at = int(track.range_of_child_at_index(i).start_time.value)
                prev = track[i - 1]
                if lo_f <= at <= hi_f and at > 0 and not isinstance(prev, otio.schema.Transition):
                    track.insert(
                        i,
                        otio.schema.Transition(
                            name=name or "Cross Dissolve",
                            transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                            in_offset=RationalTime(at - lo_f, self.rate),
                            out_offset=RationalTime(hi_f - at, self.rate),
                        ),
                    )
                    break


def _root(path: Path) -> tuple[ET.Element, Path]:
    path = Path(path)
    if path.is_dir():
        path = path / "Info.fcpxml"
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise TimelineReadError(
            f"{path}: not readable as FCPXML ({exc}); re-export it from Final Cut"
        ) from exc
    if root.tag != "fcpxml":
        raise TimelineReadError(f"{path}: root element is <{root.tag}>, not <fcpxml>; is it FCP7 XML (.xml)?")
    return root, path


def projects_of(root: ET.Element) -> list[ET.Element]:
    """The file's projects in document order (compound-clip `<media>` sequences are not projects)."""
    return [p for p in root.iter("project") if p.find("sequence") is not None]


def project_names(path: Path) -> list[str]:
    """The names of the projects in an FCPXML file, in order (what `--project` chooses from)."""
    return [p.get("name", "") for p in projects_of(_root(path)[0])]


def choose_project(root: ET.Element, path: Path, project: str | int | None) -> tuple[ET.Element, str | None]:
    """The project to read and, when the file holds several and none was named, a note saying so."""
    found = projects_of(root)
    if not found:
        raise TimelineReadError(f"{path}: no <project><sequence> in the FCPXML; export a project")
    names = [p.get("name", "") for p in found]
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names, 1))
    if project is None or project == "":
        note = None
        if len(found) > 1:
            note = (
                f"{path.name}: {len(found)} projects ({listing}); reading the first, "
                "pass --project NAME or --project N for another"
            )
        return found[0], note
    text = str(project)
    if text in names:
        return found[names.index(text)], None
    if text.isdigit() and 1 <= int(text) <= len(found):
        return found[int(text) - 1], None
    raise TimelineReadError(f"{path}: no project {text!r}; the file holds {listing}")


def read_fcpxml_report(
    path: Path, project: str | int | None = None
) -> tuple[otio.schema.Timeline, list[str]]:
    """The timeline of one project of an FCPXML file (or .fcpxmld bundle), and notes for the user."""
    root, path = _root(path)
    chosen, note = choose_project(root, path, project)
    try:
        timeline = _Reader(root, path).timeline(chosen)
    except FcpTimeError as exc:
        raise TimelineReadError(f"{path}: {exc}; re-export the project from Final Cut") from None
    timeline.metadata["fcpxml"]["project_number"] = projects_of(root).index(chosen) + 1
    return timeline, [note] if note else []


def read_fcpxml(path: Path, project: str | int | None = None) -> otio.schema.Timeline:
    """An OTIO timeline from an FCPXML file (or .fcpxmld bundle), exact to the frame."""
    return read_fcpxml_report(path, project)[0]
