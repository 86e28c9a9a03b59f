"""Guards on what the user hands us, checked before any parsing work or scoring starts.

Each check answers one question an adapter or the engine would otherwise answer with a hang, a
traceback or a crash: is the timeline a regular file (a FIFO blocks forever, a device never ends);
is its nesting shallow enough to parse (OTIO's JSON reader recurses: 100k levels segfault, and a
60 KB file of nested arrays takes minutes); are its rates and durations real numbers; can the
output be written in the requested format; are a scored timeline's cue records well typed.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

import opentimelineio as otio

from engine.api import CUE_RECORD_TYPES, MAX_HANDLE_S, control_error
from vm_editor.errors import EditorInputError, TimelineReadError

MAX_TIMELINE_BYTES = 512 * 1024 * 1024
MAX_TEXT_DEPTH = 200  # JSON brackets or XML elements; real exports stay under ~40
MAX_COMPOSITION_DEPTH = 64  # stacks and tracks inside each other
MAX_RATE = 1000.0  # frames per second; anything above is a broken export, not high-speed footage
MAX_DURATION_S = 7 * 24 * 3600.0
MAX_SPEED = 1000.0  # a clip's time warp, either way; speed ramps of editors stay far below
NAME_MAX = 255  # bytes per path component on the file systems editors use
PATH_MAX = 4096
_TEXT_SUFFIXES = {".otio": "json", ".xml": "xml", ".fcpxml": "xml", ".kdenlive": "xml"}
_BUNDLE_DOCUMENTS = {".otiod": "content.otio", ".fcpxmld": "Info.fcpxml"}  # folder bundles
_ZIP_BUNDLES = {".otioz": "content.otio"}
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_XML_NOISE = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>", re.S)
_XML_TAG = re.compile(rb"<(/?)[^\s>/]+[^>]*?(/?)>")


def shown(path: Path | str) -> str:
    """A path as text that can always be printed (undecodable bytes as \\x escapes)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def check_timeline_file(path: Path, rate: float | None = None) -> None:
    """Before any adapter opens it: a regular file (or bundle folder) of sane size and nesting.

    Bundles (.otiod, .fcpxmld folders; .otioz zips) are held to the same limits: the document
    inside is scanned before OTIO's recursive reader sees it.
    """
    name = shown(path)
    check_utf8(path, "the timeline file")
    if rate is not None and not (math.isfinite(rate) and 0 < rate <= MAX_RATE):
        raise EditorInputError(
            f"--rate {rate:g}: give a frame rate above 0 and at most {MAX_RATE:g} (e.g. 25)"
        )
    try:
        info = os.stat(path)  # stat, never open: opening a FIFO blocks until a writer comes
    except FileNotFoundError:
        raise TimelineReadError(f"{name}: timeline file not found; check the path") from None
    except OSError as exc:
        raise TimelineReadError(f"{name}: cannot read it ({exc.strerror}); check the path") from None
    if stat.S_ISDIR(info.st_mode):
        inner = _BUNDLE_DOCUMENTS.get(Path(path).suffix.lower())
        if inner is not None:  # a bundle: its document is held to the same checks
            check_timeline_file(Path(path) / inner)
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise TimelineReadError(f"{name}: is {kind}, not a timeline file; export the timeline to a file")
    if info.st_size > MAX_TIMELINE_BYTES:
        raise TimelineReadError(
            f"{name}: {info.st_size / 2**20:.0f} MB is more than a timeline export can be "
            f"(limit {MAX_TIMELINE_BYTES // 2**20} MB); check that this is the timeline file"
        )
    if not os.access(path, os.R_OK):
        raise TimelineReadError(f"{name}: is not readable; check its permissions")
    suffix = Path(path).suffix.lower()
    if suffix in _ZIP_BUNDLES:
        _check_depth(_zip_document(Path(path), _ZIP_BUNDLES[suffix]), "json", name)
    elif suffix in _TEXT_SUFFIXES:
        _check_depth(Path(path).read_bytes(), _TEXT_SUFFIXES[suffix], name)


def _check_depth(data: bytes, kind: str, name: str) -> None:
    if kind == "json":  # OTIO's reader hands undecodable names to Python as unreadable objects
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            near = data[max(0, exc.start - 30) : exc.start].decode("utf-8", "replace").split('"')[-1]
            raise TimelineReadError(
                f"{name}: byte {exc.start} (after {near!r}) is not UTF-8 text, which an .otio file "
                "must be; rename the clip (or marker) in the editor and re-export"
            ) from None
    depth = text_nesting_depth(data, kind)
    if depth > MAX_TEXT_DEPTH:
        raise TimelineReadError(
            f"{name}: nested {depth} levels deep (limit {MAX_TEXT_DEPTH}); this is not an editor's "
            "export or it is damaged; re-export the timeline"
        )


def _zip_document(path: Path, member: str) -> bytes:
    """The timeline document inside a zipped bundle (.otioz), read no further than the size limit."""
    name = shown(path)
    try:
        with zipfile.ZipFile(path) as bundle:
            with bundle.open(member) as handle:
                data = handle.read(MAX_TIMELINE_BYTES + 1)
    except KeyError:
        raise TimelineReadError(
            f"{name}: the bundle holds no {member}; re-export the timeline as .otioz"
        ) from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise TimelineReadError(
            f"{name}: not a readable .otioz bundle ({exc}); re-export the timeline"
        ) from None
    if len(data) > MAX_TIMELINE_BYTES:
        raise TimelineReadError(
            f"{name}: its {member} unpacks to more than {MAX_TIMELINE_BYTES // 2**20} MB; "
            "check that this is the timeline file"
        )
    return data


def text_nesting_depth(data: bytes, kind: str) -> int:
    """The deepest nesting of JSON brackets or XML elements, found by scanning, not parsing.

    Linear in the size of the file and never recursive, so it answers for any input in bounded
    time; strings, comments and CDATA do not count.
    """
    if kind == "json":
        marks = _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', data))
        opening = (b"[", b"{")
    else:
        marks = [
            b"" if m.group(2) else (b"/" if m.group(1) else b"<")
            for m in _XML_TAG.finditer(_XML_NOISE.sub(b"", data))
        ]
        opening = (b"<",)
    depth = deepest = 0
    for mark in marks:
        if mark in opening:
            depth += 1
            deepest = max(deepest, depth)
        elif mark:
            depth -= 1
    return deepest


def _bad_number(value: float, upper: float) -> bool:
    return not math.isfinite(value) or value < 0 or value > upper


def check_timeline(timeline: otio.schema.Timeline, path: Path) -> None:
    """Rates, times and nesting of what was read, each named by the clip that carries it."""
    name = shown(path)
    start = timeline.global_start_time
    if start is not None:
        _check_time(start, f"{name}: the timeline's start time", allow_negative=True)
    check_tracks(timeline, path)
    pending: list[tuple[otio.core.SerializableObject, int]] = [(timeline.tracks, 1)]
    while pending:  # iterative: a deep document must not exhaust the Python stack
        item, depth = pending.pop()
        if depth > MAX_COMPOSITION_DEPTH:
            raise TimelineReadError(
                f"{name}: tracks and stacks nested {depth} deep (limit {MAX_COMPOSITION_DEPTH}); "
                "flatten the compound clips in the editor and export again"
            )
        what = f"{name}: {type(item).__name__.lower()} {_printable(item.name)!r}"
        if getattr(item, "source_range", None) is not None:
            _check_range(item.source_range, what)
        reference = getattr(item, "media_reference", None)
        if reference is not None and getattr(reference, "available_range", None) is not None:
            _check_range(reference.available_range, f"{what} (its media's available range)")
        for effect in getattr(item, "effects", ()):
            scalar = getattr(effect, "time_scalar", None)
            if scalar is not None and not (math.isfinite(scalar) and abs(scalar) <= MAX_SPEED):
                raise TimelineReadError(
                    f"{what}: its time warp ({_printable(effect.name) or type(effect).__name__}) has speed "
                    f"{scalar:g}; a clip's speed must be a finite number up to {MAX_SPEED:g}x: set the "
                    "clip's speed in the editor and re-export"
                )
        for marker in getattr(item, "markers", ()):
            _check_range(marker.marked_range, f"{what} (marker {_printable(marker.name)!r})")
        if isinstance(item, otio.core.Composition):
            pending.extend((child, depth + 1) for child in item)


def check_tracks(timeline: otio.schema.Timeline, path: Path) -> None:
    """The timeline's top stack holds tracks (every reader after this walks them as tracks)."""
    for item in timeline.tracks:
        if not isinstance(item, otio.schema.Track):
            raise TimelineReadError(
                f"{shown(path)}: {type(item).__name__.lower()} {_printable(item.name)!r} sits directly "
                "in the timeline, not on a track; put it on a track in the editor and re-export"
            )


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(text, str) else str(text)


def _check_time(time: otio.opentime.RationalTime, what: str, allow_negative: bool = False) -> None:
    rate, value = time.rate, time.value
    if not math.isfinite(rate) or rate <= 0 or rate > MAX_RATE:
        raise TimelineReadError(
            f"{what} has rate {rate:g}; a frame rate must be above 0 and at most {MAX_RATE:g}: "
            "re-export the timeline (or give --rate for an EDL)"
        )
    seconds = value / rate
    if not math.isfinite(value) or (not allow_negative and value < 0) or abs(seconds) > MAX_DURATION_S:
        raise TimelineReadError(f"{what} has time {value:g} frames, which is not a usable time; re-export it")


def _check_range(time_range: otio.opentime.TimeRange, what: str) -> None:
    _check_time(time_range.start_time, what, allow_negative=True)
    _check_time(time_range.duration, what)


def check_output(out_path: Path, cue_dir: Path | None = None) -> None:
    """Before scoring: the output's format is writable and its folder takes files; --cue-dir fits."""
    from vm_editor.timeline_io import FORMATS, adapter_for

    name = shown(out_path)
    if cue_dir is not None:
        check_path_length(cue_dir, "--cue-dir")
    check_path_length(out_path, "-o")
    if adapter_for(out_path) is None:
        raise EditorInputError(
            f"{name}: no OpenTimelineIO adapter writes '{out_path.suffix}' files; "
            "choose -o with .otio, .xml, .fcpxml or .kdenlive"
        )
    info = FORMATS.get(out_path.suffix.lower())
    if info is not None and not info.audio_track:
        raise EditorInputError(
            f"{name}: {info.adapter} cannot carry the score's audio track ({info.why_not}); "
            f"write .otio instead (-o {out_path.with_suffix('.otio').name})"
        )
    folder = out_path.parent if str(out_path.parent) else Path(".")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise EditorInputError(f"{name}: {shown(existing)} is not a folder; choose another -o")
    if existing != folder:
        return  # the folder is created at write time; its existing parent must take it
    try:
        fd, probe = tempfile.mkstemp(prefix=".vidmusician-probe-", dir=folder)
    except OSError as exc:
        raise EditorInputError(
            f"{name}: cannot write in {shown(folder)} ({exc.strerror}); choose another -o"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_crossfade(seconds: float) -> None:
    """--crossfade: a dissolve into the next cue's rendered handle, so at most that handle long."""
    from engine.api import DEFAULT_HANDLE_S

    if not (math.isfinite(seconds) and 0 <= seconds <= DEFAULT_HANDLE_S):
        raise EditorInputError(
            f"--crossfade {seconds:g}: give seconds from 0 (hard cuts) to {DEFAULT_HANDLE_S:g} "
            "(the music rendered past each cue), e.g. 0.5"
        )


def check_utf8(value: str | os.PathLike[str] | None, option: str) -> None:
    """Text that the scored timeline or the engine request must carry (a path in a clip's
    metadata, the prompt in JSON) must be UTF-8: bytes that are not are refused before scoring."""
    if value is None:
        return
    text = os.fsdecode(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EditorInputError(
            f"{option} {shown(text)[:80]}: holds bytes that are not UTF-8 text, which a timeline "
            "cannot record; rename it (or give text) in UTF-8"
        ) from None


def check_path_length(path: Path, option: str) -> None:
    encoded = os.fsencode(path)
    if len(encoded) > PATH_MAX:
        raise EditorInputError(
            f"{option} {shown(path)[:60]}...: longer than {PATH_MAX} bytes; use a shorter path"
        )
    for part in Path(path).parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise EditorInputError(
                f"{option}: the name {shown(part)[:40]}... is {len(os.fsencode(part))} bytes; "
                f"a name may have at most {NAME_MAX}; use a shorter one"
            )


# a cue record's fields: where the editor placed the cue (here), then the engine's (engine.api)
_CUE_FIELDS: dict[str, tuple[type, ...]] = {
    "cue_index": (int,),
    "record_start_frame": (int, float),
    "record_end_frame": (int, float),
    "wav_url": (str,),
    "scene_name": (str,),
    "rate": (int, float, type(None)),
    **CUE_RECORD_TYPES,
}
_CUE_REQUIRED = ("record_start_frame", "record_end_frame")


def checked_cue_metadata(timeline: otio.schema.Timeline, path: Path) -> dict[int, dict]:
    """The score's cue records (writeback.cue_metadata), refused clearly when a field has a wrong type."""
    from vm_editor.writeback import METADATA_KEY, cue_metadata

    try:
        cues = cue_metadata(timeline, path)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise EditorInputError(
            f"{shown(path)}: the {METADATA_KEY} metadata of its score track is damaged ({exc}); "
            "score the timeline again"
        ) from None
    for index, meta in cues.items():
        for key, types in _CUE_FIELDS.items():
            value = meta.get(key)
            if key in meta and (not isinstance(value, types) or isinstance(value, bool)):
                raise EditorInputError(
                    f"{shown(path)}: cue {index}'s {METADATA_KEY} metadata has {key}={value!r} "
                    f"({type(value).__name__}, expected {' or '.join(t.__name__ for t in types)}); "
                    "score the timeline again or fix the value"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise EditorInputError(
                    f"{shown(path)}: cue {index}'s {key} is {value}; score the timeline again"
                )
        _check_cue_span(meta, index, timeline, path)
    return cues


def _check_cue_span(meta: dict, index: int, timeline: otio.schema.Timeline, path: Path) -> None:
    """The cue's frames, rate and handle describe a span of this timeline (not 10^12 frames);
    its controls are ones the engine knows. The recipe is read as every reader reads it
    (`cue_from_metadata`), once the types above are right."""
    from vm_editor.score_track import cue_from_metadata
    from vm_editor.writeback import METADATA_KEY

    where = f"{shown(path)}: cue {index}'s {METADATA_KEY} metadata"
    fix = "score the timeline again or fix the value"
    missing = [key for key in _CUE_REQUIRED if key not in meta]
    if missing:
        raise EditorInputError(f"{where} has no {' or '.join(missing)}; {fix}")
    rate = meta.get("rate")
    if rate is not None and not 0 < rate <= MAX_RATE:
        raise EditorInputError(
            f"{where} has rate={rate!r}; a frame rate is above 0 and at most {MAX_RATE:g}; {fix}"
        )
    recorded = cue_from_metadata(meta)
    problem = control_error(recorded.mood, recorded.energy)
    if problem is not None:
        raise EditorInputError(f"{where}: {problem}; {fix}")
    handle = recorded.handle_s
    if not 0 <= handle <= MAX_HANDLE_S:
        raise EditorInputError(
            f"{where} has handle_s={handle!r}; it lies between 0 and {MAX_HANDLE_S:g} s; {fix}"
        )
    start, end = meta["record_start_frame"], meta["record_end_frame"]
    length = timeline.duration()
    rate = rate or length.rate
    if not 0 <= start < end or end / rate > length.to_seconds() + 1.0:
        raise EditorInputError(
            f"{where} spans frames {start!r}-{end!r} at {rate:g} fps, which is not a span of the "
            f"timeline ({length.to_seconds():.2f} s); {fix}"
        )
