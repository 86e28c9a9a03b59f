"""The contract between the editor side and the engine: plain dataclasses that travel as JSON,
and their codecs, the one schema of the wire (the service validates request bodies with them).

Pure standard library on purpose: `vm_editor` imports this module and must never pull in torch,
onnxruntime or av. Times here are seconds; the editor converts from RationalTime at this edge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, get_args

# the two clocks the editor side needs, re-exported from their one home (standard library only)
from engine.timebase import CUE_SAMPLE_RATE as CUE_SAMPLE_RATE
from engine.timebase import TOKEN_RATE as TOKEN_RATE

API_VERSION = 2
DEFAULT_HANDLE_S = 1.0  # music rendered past each cue's end, for crossfades with real handles
SEED_LIMIT = 2**31 - 1
# a cue's explicit controls (`SceneRequest.mood`, `.energy`): the moods and energy levels the
# generator decodes (engine.generator.prompt_intent's MOODS and ENERGIES; a test keeps them equal)
CUE_MOODS = ("tension", "action", "sadness", "uplift", "comedy", "romance", "wonder")
CUE_ENERGIES = ("low", "medium", "high")


def control_error(mood: str | None, energy: str | None) -> str | None:
    """What is wrong with a cue's explicit mood and energy (None: nothing; None values are the
    prompt's say), as the message every front end shows."""
    if mood is not None and mood not in CUE_MOODS:
        return f"mood {mood!r} is not one of {', '.join(CUE_MOODS)} (or none: the prompt's words decide)"
    if energy is not None and energy not in CUE_ENERGIES:
        return (
            f"energy {energy!r} is not one of {', '.join(CUE_ENERGIES)} (or none: the prompt's words decide)"
        )
    return None


# What one request may hold. The service refuses more (413/422); the editor side checks the same
# numbers before any work, so a user hears which file, what is over and how to fix it.
MAX_SCENES = 500  # cues in one score request (and shots in one /shots request)
MAX_SCENE_S = 3600.0  # one cue
MAX_TOTAL_S = 4 * 3600.0  # all cues of a request together
MAX_HIT_POINTS = 1000  # markers in one cue
MAX_TEXT_CHARS = 500  # a cue's name, a prompt
MAX_BODY_BYTES = 1_000_000  # one request's JSON body
MAX_PATH_CHARS = 4096  # a media, tokens or cue folder path
MAX_INDEX = 100_000  # a cue's index, and its take
MAX_GUIDANCE = 20.0
MAX_HANDLE_S = 10.0
MAX_MEDIA_S = 1e6  # a media range's seconds
MAX_NAME_CHARS = 200  # score_name (the service also caps its bytes: it names every cue file)
MAX_PRESET_CHARS = 100
MAX_CONTROL_CHARS = 40  # a mood or an energy (their values are checked by `control_error`)
MAX_ANCHORS = 1000  # a re-fit's anchor pairs
MAX_HASH_CHARS = 64
PREVIEW_POINTS = (8, 2000)  # the rhythm curve's points in a media preview, least and most


def derive_cue_seed(request_seed: int, cue_index: int) -> int:
    """Cue `cue_index`'s seed when none is given: one rule for the CLI, the panel and the engine,
    so the same cut with the same seed gives the same music whichever front end asked."""
    return (int(request_seed) + 7919 * (int(cue_index) + 1)) % SEED_LIMIT


@dataclass(frozen=True)
class MediaRange:
    """A span of a media file to look at, in the file's own seconds."""

    path: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ProgramSegmentSpec:
    """One shot of a cue's program. Record seconds are relative to the cue's start.

    `source_start_s` is the media second on screen at `record_start_s`, `source_end_s` the one at
    `record_end_s` (exclusive): reversed shots have start > end, freeze frames start == end.
    `path` None is black (a gap, a lone generator, or media offline on this machine).
    """

    path: str | None
    source_start_s: float
    source_end_s: float
    record_start_s: float
    record_end_s: float
    speed: float = 1.0  # media seconds per record second; negative reversed, 0 frozen
    name: str = ""  # the clip's name, for messages only (not part of `source_hash`)


@dataclass(frozen=True)
class EditPointSpec:
    """A change of picture the timeline states: a cut at `at_s`, or a dissolve over a span."""

    at_s: float
    span_start_s: float | None = None
    span_end_s: float | None = None

    @property
    def is_cut(self) -> bool:
        """A hard cut (a hit point), not a dissolve (a blend the music eases through)."""
        return self.span_start_s is None or self.span_end_s is None or self.span_end_s <= self.span_start_s


@dataclass(frozen=True)
class CueProgram:
    """What the viewer sees during a cue: ordered segments tiling [0, duration_s), the exact
    edit points between them and the markers (all seconds from the cue's start)."""

    duration_s: float
    segments: tuple[ProgramSegmentSpec, ...]
    edit_points: tuple[EditPointSpec, ...] = ()
    markers_s: tuple[float, ...] = ()
    # where the picture changes world (another source, another look; `vm_editor.worlds`), cue
    # seconds, 0.0 when the cue itself starts a new world: the only places besides markers where
    # the style may change. None: not decided (older clients): the style may change at any cut
    world_changes_s: tuple[float, ...] | None = None


@dataclass(frozen=True)
class ShotPicture:
    """What a shot looks like as a whole (`Engine.shot_pictures`), all in 0..1: mean luma and its
    spread, mean chroma, the share of colourful pixels (near 0 for black-and-white), the palette
    (a hue histogram weighted by chroma, summing to 1 or all 0 when grey) and motion energy (mean
    absolute luma change between frames 1/4 s apart)."""

    luma: float
    contrast: float
    saturation: float
    colour: float
    hues: tuple[float, ...]
    motion: float


@dataclass(frozen=True)
class CueTempo:
    """The tempo grid a cue's notes start on: what a music editor needs to cut to it, and what
    reads its bars and grooves exactly (a grid fitted to the notes can take a 4/4 at 60 for 90)."""

    bpm: float
    downbeat_s: float  # the first bar line at or after the cue's start (cue seconds)
    beats_per_bar: int = 4
    steps_per_beat: int = 4

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CueTempo:
        return tempo_from_dict(data)


PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True)
class CueKey:
    """The key a cue was written in: its tonic and mode, and the seven notes of its signature
    (what a continued cue keeps, whatever its own mode)."""

    tonic: int  # pitch class, 0 = C
    mode: str  # major, minor, dorian, lydian, mixolydian
    notes: tuple[int, ...]  # the signature's pitch classes, ascending

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic % 12]} {self.mode}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CueKey:
        return key_from_dict(data)


def recorded_tempo(data: Any) -> CueTempo | None:
    """A cue's recorded `tempo` (clip metadata, any mapping), or None: an older record, or one
    that does not read."""
    return _recorded(CueTempo, data)


def recorded_key(data: Any) -> CueKey | None:
    """A cue's recorded `key`, or None (see `recorded_tempo`)."""
    return _recorded(CueKey, data)


def _recorded(kind, data: Any):
    if not hasattr(data, "get"):
        return None
    try:
        return kind.from_dict(dict(data))
    except SchemaError:
        return None


def recorded_seconds(data: Any) -> tuple[float, ...] | None:
    """A recorded list of cue seconds (`hit_points_s`), or None when absent or unreadable."""
    if data is None or isinstance(data, (str, bytes)):
        return None
    try:
        times = tuple(float(t) for t in data)
    except (TypeError, ValueError):
        return None
    return times if all(math.isfinite(t) for t in times) else None


def recorded_flag(value: Any, default: bool) -> bool:
    """A recorded boolean as any adapter gives it back (True, "true", "False", 0...); `default`
    when absent."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no")
    return bool(value)


def _recorded_number(kind: type, value: Any, default: Any) -> Any:
    """A recorded number as `kind` (an adapter may give "3" back for 3); `default` when absent
    or unreadable."""
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if math.isfinite(number) else default


def recorded_program(data: Any) -> CueProgram | None:
    """A cue's recorded `program`, or None (an older record, or one that does not read)."""
    if not isinstance(data, dict):
        return None
    try:
        return program_from_dict(data)
    except SchemaError:
        return None


@dataclass(frozen=True)
class Continuation:
    """The cue this one continues, and the second of it where this cue starts (the previous
    cue's length, before its handle). The generator prompts with the tokens up to there.

    Either `tokens_path` (a finished cue's `<wav stem>.tokens.npy`) or `scene_index` (a scene of
    the same request, generated before this one).
    """

    at_s: float
    tokens_path: str | None = None
    scene_index: int | None = None
    # the grid the previous cue's notes start on (its own seconds), when it recorded one: this cue
    # plays on, on the very same beats (a grid fitted again to its notes lands a fraction off)
    tempo: CueTempo | None = None
    # the key it was written in, when it recorded one: this cue keeps its signature (read again
    # from a short cue's notes, A major and D major differ by one note)
    key: CueKey | None = None


@dataclass(frozen=True)
class SceneRequest:
    """One cue to generate: how long it must be and what pictures it should follow.

    `media` is None for generators, gaps turned into cues and offline media: such scenes still
    get music, conditioned on nothing visual.
    """

    index: int
    name: str
    duration_s: float
    media: MediaRange | None = None
    hit_points_s: tuple[float, ...] = ()
    seed: int | None = None
    prompt: str | None = None
    take: int = 1
    guidance: float | None = None  # classifier-free guidance ("intensity"); None = the preset's
    program: CueProgram | None = None  # the pictures over the cue; wins over `media`
    handle_s: float = 0.0  # music rendered past the end, for a crossfade into the next cue
    continue_from: Continuation | None = None
    # nothing continues this cue (no touching cue after it): it ends into silence, so it closes on a
    # cadence and its notes are released before its end; False: its music runs on into the next cue
    ends: bool = False
    # explicit controls over the prompt's words (CUE_MOODS, CUE_ENERGIES); None: the prompt decides
    mood: str | None = None
    energy: str | None = None

    def cue_program(self) -> CueProgram:
        """The program the engine conditions on (a lone media range is a one-shot program)."""
        if self.program is not None:
            return self.program
        segments: tuple[ProgramSegmentSpec, ...] = ()
        if self.media is not None:
            m = self.media
            speed = (m.end_s - m.start_s) / self.duration_s if self.duration_s > 0 else 1.0
            segments = (ProgramSegmentSpec(m.path, m.start_s, m.end_s, 0.0, self.duration_s, speed),)
        else:
            segments = (ProgramSegmentSpec(None, 0.0, 0.0, 0.0, self.duration_s, 0.0),)
        return CueProgram(self.duration_s, segments, (), tuple(self.hit_points_s))

    def source_hash(self) -> str:
        """Identity of what the cue was generated from; lets a later session find the same cue."""
        payload: dict[str, Any] = {
            "duration_s": round(self.duration_s, 6),
            "media": None
            if self.media is None
            else [self.media.path, round(self.media.start_s, 6), round(self.media.end_s, 6)],
            "hit_points_s": [round(t, 6) for t in self.hit_points_s],
        }
        if self.program is not None:
            program = dataclasses.asdict(self.program)
            program.pop("world_changes_s")  # a decision about the pictures, not the pictures
            for segment in program["segments"]:
                segment.pop("name", None)  # a renamed clip shows the same pictures
            payload["program"] = json.loads(json.dumps(program), parse_float=lambda x: round(float(x), 6))
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ScoreRequest:
    """A batch of scenes scored with one preset into one cue folder."""

    scenes: tuple[SceneRequest, ...]
    cue_dir: str
    preset: str = "tiny"
    seed: int = 0
    prompt: str | None = None
    score_name: str = "score"
    hits: bool = True  # hit points (cuts, markers) get a strong accent; False: the model alone
    stems: bool = False  # also one WAV per stream beside each cue (symbolic presets)


@dataclass(frozen=True)
class CueResult:
    """A finished cue: a 48 kHz WAV of exactly the requested length, plus how it was made."""

    index: int
    name: str
    wav_path: str
    duration_s: float
    num_samples: int
    sample_rate: int
    preset: str
    seed: int
    prompt: str | None
    take: int
    source_hash: str
    engine_version: str
    model_trained: bool
    guidance: float | None = None
    handle_s: float = 0.0  # the WAV runs this long past `duration_s` (num_samples excludes it)
    tokens_path: str | None = None  # the cue's generated tokens [K, T] (.npy), for continuation
    hits: bool = True  # cuts and markers were forced accents (False: the model alone)
    stems: dict[str, str] = field(default_factory=dict)  # stream -> WAV beside the cue (--stems)
    # it opened fresh at a change of world (no continuation): a new take of it opens fresh too
    starts_world: bool = False
    # where its style could change (its program's world changes; None: at any cut): a new take keeps them
    world_changes_s: tuple[float, ...] | None = None
    # the pictures it was made for (cue seconds): a later conform finds how a recut moved its cuts
    program: CueProgram | None = None
    # the tokens file of the cue whose music it continues (None: it opened fresh)
    continued_from: str | None = None
    mood: str | None = None  # the explicit controls it was made with (None: the prompt's words)
    energy: str | None = None
    tempo: CueTempo | None = None  # the grid its notes start on (None: unknown, or re-timed)
    key: CueKey | None = None  # the key it was written in (None: unknown, or no written form)
    # the cue seconds its accents were forced on (cuts, markers, cuts inside the media; None:
    # not recorded): a groove is read between them
    hit_points_s: tuple[float, ...] | None = None

    def metadata(self) -> dict[str, Any]:
        """What goes under the clip's `vidmusician` metadata namespace."""
        return {
            "preset": self.preset,
            "seed": self.seed,
            "prompt": self.prompt or "",
            "take": self.take,
            "source_hash": self.source_hash,
            "engine_version": self.engine_version,
            "api_version": API_VERSION,
            "cue_index": self.index,
            "model_trained": self.model_trained,
            "guidance": self.guidance,
            "handle_s": self.handle_s,
            "tokens_path": self.tokens_path or "",
            "hits": self.hits,
            "stems": dict(self.stems),
            **({"starts_world": True} if self.starts_world else {}),
            **({} if self.world_changes_s is None else {"world_changes_s": list(self.world_changes_s)}),
            **({} if self.continued_from is None else {"continued_from": self.continued_from}),
            **(
                {}
                if self.program is None
                else {"program": json.loads(json.dumps(dataclasses.asdict(self.program)))}
            ),
            **({"mood": self.mood} if self.mood else {}),
            **({"energy": self.energy} if self.energy else {}),
            **({} if self.tempo is None else {"tempo": dataclasses.asdict(self.tempo)}),
            **(
                {}
                if self.key is None
                else {"key": {**dataclasses.asdict(self.key), "notes": list(self.key.notes)}}
            ),
            **(
                {}
                if self.hit_points_s is None
                else {"hit_points_s": [round(t, 6) for t in self.hit_points_s]}
            ),
        }


# The types a saved cue record's engine fields may hold (`CueResult.metadata`): an editor refuses
# a damaged record by this table before reading it (`cue_from_record` reads leniently).
CUE_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "take": (int,),
    "seed": (int,),
    "preset": (str,),
    "prompt": (str, type(None)),
    "guidance": (int, float, type(None)),
    "source_hash": (str,),
    "handle_s": (int, float),
    "mood": (str, type(None)),
    "energy": (str, type(None)),
}


def cue_from_record(record: Any, *, wav_path: str, duration_s: float) -> CueResult:
    """A cue as its clip metadata recorded it (`CueResult.metadata`, plus the editor's
    `scene_name`): the one reader of that record, lenient because records outlive versions and
    travel through editors (a missing or unreadable field reads as its default). The WAV and the
    length come from the clip itself, which the editor side reads."""
    index = int(record["cue_index"])
    guidance = _recorded_number(float, record.get("guidance"), None)
    worlds = record.get("world_changes_s")
    stems = record.get("stems")
    return CueResult(
        index=index,
        name=str(record.get("scene_name") or f"cue {index}"),
        wav_path=wav_path,
        duration_s=duration_s,
        num_samples=round(duration_s * CUE_SAMPLE_RATE),
        sample_rate=CUE_SAMPLE_RATE,
        preset=str(record.get("preset") or "tiny"),
        seed=_recorded_number(int, record.get("seed"), 0),
        prompt=record.get("prompt") or None,
        take=_recorded_number(int, record.get("take"), 1),
        source_hash=str(record.get("source_hash") or ""),
        engine_version=str(record.get("engine_version") or ""),
        model_trained=bool(record.get("model_trained", True)),
        guidance=guidance,
        handle_s=_recorded_number(float, record.get("handle_s"), 0.0),
        tokens_path=record.get("tokens_path") or None,
        hits=recorded_flag(record.get("hits"), True),
        stems={str(k): str(v) for k, v in stems.items()} if isinstance(stems, Mapping) else {},
        starts_world=recorded_flag(record.get("starts_world"), False),
        world_changes_s=None if worlds is None else recorded_seconds(worlds),
        program=recorded_program(record.get("program")),
        continued_from=record.get("continued_from") or None,
        mood=record.get("mood") or None,
        energy=record.get("energy") or None,
        tempo=recorded_tempo(record.get("tempo")),
        key=recorded_key(record.get("key")),
        hit_points_s=recorded_seconds(record.get("hit_points_s")),
    )


@dataclass(frozen=True)
class ScoreResult:
    cues: tuple[CueResult, ...]
    warnings: tuple[str, ...] = field(default=())


def to_json(obj: Any) -> str:
    return json.dumps(dataclasses.asdict(obj), sort_keys=True)


# -- re-fit: a finished cue's notes re-timed onto a trimmed span ---------------------------------

MAX_REFIT_TEMPO_CHANGE = 0.04  # a re-fit changes the tempo of any stretch of a cue by at most 4 %


@dataclass(frozen=True)
class RefitRequest:
    """A finished cue (`cue`, with its saved tokens) played again over a recut span, without new
    music: its notes re-timed so that each `anchors` pair (second of the old cue, second of the new
    one, increasing, the first (0, 0)) meets, straight lines between them (one tempo change per
    stretch, at most MAX_REFIT_TEMPO_CHANGE), then rendered by the renderer that made it.

    `continue_from` is the cue before it (the context its notes were rendered after: a note held
    into it, the reverb); `program` is the new span's pictures, recorded in the result.
    """

    cue: CueResult
    index: int
    name: str
    duration_s: float
    anchors: tuple[tuple[float, float], ...]
    cue_dir: str
    score_name: str = "score"
    source_hash: str = ""
    program: CueProgram | None = None
    continue_from: Continuation | None = None

    def tempo_changes(self) -> tuple[float, ...]:
        """Each stretch's new length over its old one, minus 1 (the last runs to the new end)."""
        points = [*self.anchors]
        old_end = self.cue.duration_s
        if points[-1][0] < old_end - 1e-9:
            points.append((old_end, self.duration_s))
        out = []
        for (a0, b0), (a1, b1) in zip(points, points[1:], strict=False):
            out.append((b1 - b0) / (a1 - a0) - 1.0 if a1 > a0 else math.inf)
        return tuple(out)


def check_refit(request: RefitRequest) -> None:
    """ValueError naming the cue when a re-fit cannot be done without new music."""
    where = f"cue {request.index} ({request.name!r})"
    anchors, cue, cont = request.anchors, request.cue, request.continue_from
    if not isinstance(cue.tokens_path, str) or not cue.tokens_path:
        raise ValueError(f"{where}: its take has no saved tokens; regenerate it")
    if cont is not None and not isinstance(cont.tokens_path, str | None):
        raise ValueError(f"{where}: continue_from.tokens_path must be a string (or null)")
    lengths = (cue.duration_s, cue.handle_s, cont.at_s if cont is not None else 0.0)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in lengths):
        raise ValueError(f"{where}: the cue's duration_s, handle_s and continue_from.at_s must be numbers")
    if cue.duration_s <= 0 or cue.handle_s < 0 or lengths[2] < 0:
        raise ValueError(
            f"{where}: the cue must last more than 0 s, its handle and continue_from.at_s not less"
        )
    kinds = ((cue.preset, str), (cue.wav_path, str), (cue.seed, int), (cue.take, int), (cue.stems, dict))
    if not all(isinstance(value, kind) for value, kind in kinds):
        raise ValueError(
            f"{where}: the cue's preset, wav_path, seed, take and stems must be engine.api's types"
        )
    if not anchors or anchors[0] != (0.0, 0.0) or request.duration_s <= 0:
        raise ValueError(f"{where}: a re-fit starts at (0, 0) and lasts more than 0 s")
    numbers = [request.duration_s, *(x for pair in anchors for x in pair)]
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in numbers):
        raise ValueError(f"{where}: every time must be a finite number")
    if any(a1 <= a0 or b1 <= b0 for (a0, b0), (a1, b1) in zip(anchors, anchors[1:], strict=False)):
        raise ValueError(f"{where}: re-fit anchors must increase")
    worst = max((abs(r) for r in request.tempo_changes()), default=0.0)
    if worst > MAX_REFIT_TEMPO_CHANGE + 1e-9:
        raise ValueError(
            f"{where}: a re-fit would change its tempo by {worst:.1%} (at most "
            f"{MAX_REFIT_TEMPO_CHANGE:.0%}); regenerate the cue"
        )


def request_hash(request: ScoreRequest) -> str:
    """Identical requests (same scenes, settings and cue folder) share one result."""
    return hashlib.sha256(to_json(request).encode()).hexdigest()


# -- jobs, progress and the engine protocol -------------------------------------------------------

Stage = Literal["queued", "features", "generate", "finish", "done"]
STAGES: tuple[Stage, ...] = get_args(Stage)
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)


@dataclass(frozen=True)
class ProgressEvent:
    """What a front end shows: which cue, which step, how far (0..1 over the whole request)."""

    scene_index: int
    scene_position: int  # 1-based position in the request
    scene_count: int
    scene_name: str
    stage: Stage
    fraction: float
    elapsed_s: float
    cue: CueResult | None = None  # on the "done" event of a cue: the finished cue, once per cue


ProgressCallback = Callable[[ProgressEvent], None]


class CancelSignal(Protocol):
    """Anything with `is_set()` (a `threading.Event`): a front end sets it to stop a score."""

    def is_set(self) -> bool: ...


class ScoringCancelled(Exception):
    """`Engine.score` stopped because its cancel signal was set. The cues finished before the
    cancel are on disk and listed in `cues`; the rest were not written."""

    def __init__(self, cues: tuple[CueResult, ...] = ()):
        super().__init__(f"cancelled after {len(cues)} cue(s)")
        self.cues = tuple(cues)


def check_shots(shots: Sequence[ProgramSegmentSpec]) -> None:
    """Raise ValueError naming the shot when a time of it is no finite number (JSON's Infinity
    and NaN parse into floats) or its path is neither a string nor null."""
    for i, shot in enumerate(shots):
        where = f"shot {i}" + (f" ({shot.name!r})" if isinstance(shot.name, str) and shot.name else "")
        numbers = (shot.source_start_s, shot.source_end_s, shot.record_start_s, shot.record_end_s, shot.speed)
        if not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in numbers
        ):
            raise ValueError(f"{where}: every time and the speed must be finite numbers")
        if shot.path is not None and not isinstance(shot.path, str):
            raise ValueError(f"{where}: path must be a string (or null for black)")


def check_scene(scene: SceneRequest) -> None:
    """Raise ValueError naming the cue when its program cannot be what a viewer sees: segments
    must be finite, ordered, inside the cue and tile it; edit points and markers inside it."""
    where = f"cue {scene.index} ({scene.name!r})"
    numbers = [scene.duration_s, scene.handle_s, *scene.hit_points_s]
    program = scene.program
    if program is not None:
        numbers += [program.duration_s, *program.markers_s, *(program.world_changes_s or ())]
        for seg in program.segments:
            numbers += [seg.source_start_s, seg.source_end_s, seg.record_start_s, seg.record_end_s, seg.speed]
        for e in program.edit_points:
            numbers += [x for x in (e.at_s, e.span_start_s, e.span_end_s) if x is not None]
    if scene.continue_from is not None:
        numbers.append(scene.continue_from.at_s)
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in numbers):
        raise ValueError(f"{where}: every time must be a finite number")
    paths = [seg.path for seg in program.segments] if program is not None else []
    paths += [scene.continue_from.tokens_path] if scene.continue_from is not None else []
    if not all(p is None or isinstance(p, str) for p in paths):
        raise ValueError(f"{where}: segment paths and tokens_path must be strings (or null)")
    control = control_error(scene.mood, scene.energy)
    if control is not None:
        raise ValueError(f"{where}: {control}")
    if scene.handle_s < 0 or (scene.continue_from is not None and scene.continue_from.at_s < 0):
        raise ValueError(f"{where}: handle_s and continue_from.at_s must not be negative")
    if program is None:
        return
    if abs(program.duration_s - scene.duration_s) > 1e-3:
        raise ValueError(f"{where}: its program lasts {program.duration_s} s, the cue {scene.duration_s} s")
    if not program.segments:
        raise ValueError(f"{where}: its program has no segments (black is a segment with path null)")
    edge = 0.0
    for seg in program.segments:
        if abs(seg.record_start_s - edge) > 1e-3 or seg.record_end_s <= seg.record_start_s:
            raise ValueError(
                f"{where}: program segments must tile the cue in order (one at {seg.record_start_s} s)"
            )
        edge = seg.record_end_s
    if abs(edge - program.duration_s) > 1e-3:
        raise ValueError(f"{where}: program segments end at {edge} s, not at the cue's end")
    times = [*program.markers_s, *(e.at_s for e in program.edit_points), *(program.world_changes_s or ())]
    if any(t < 0 or t > program.duration_s + 1e-3 for t in times):
        raise ValueError(f"{where}: edit points, markers and world changes must lie inside the cue")


@dataclass(frozen=True)
class Job:
    """A score request as the engine tracks it."""

    id: str
    status: JobStatus
    progress: float
    event: ProgressEvent | None
    error: str | None
    warnings: tuple[str, ...]
    cues: tuple[CueResult, ...]
    # the last progress stage, or what the engine did to the job ("resumed after restart"): free text
    stage: str = ""
    created: float = 0.0
    updated: float = 0.0


@dataclass(frozen=True)
class CueConditioning:
    """What the generator conditions one cue on (the `vm-editor rhythm` document)."""

    fps: int
    curve: tuple[float, ...]  # patch rhythm at TOKEN_RATE over the cue, record time
    cues: tuple[float, ...]  # cue channel: edit points, markers, cuts inside shots
    edit_points_s: tuple[float, ...]
    cls_frames: int


@dataclass(frozen=True)
class Preview:
    rhythm: tuple[float, ...]
    cuts_s: tuple[float, ...]
    thumbnail_png_base64: str


@dataclass(frozen=True)
class EngineInfo:
    version: str
    api_version: int
    presets: tuple[str, ...]
    device: str
    warm_presets: tuple[str, ...] = ()  # presets whose models are loaded (the next cue starts fast)
    open_jobs: int = 0  # jobs queued or running (an engine with none may be restarted)
    build: str | None = None  # engine.build_id's fingerprint of what the engine started from


OPEN_JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running")


class Engine(Protocol):
    """What the editor side needs from an engine; the in-process engine and the service client
    (vm_editor.engine_client.ServiceEngine) both implement it."""

    def score(
        self,
        request: ScoreRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> ScoreResult:
        """Generate every cue of `request`. `progress` sees typed events (each finished cue once,
        on its "done" event); once `cancel` is set, the score stops between cues or within a
        cue's generation and raises `ScoringCancelled` with the cues already finished."""
        ...

    def conditioning(self, scene: SceneRequest, preset: str = "tiny") -> CueConditioning: ...

    def shot_embeddings(
        self, shots: tuple[ProgramSegmentSpec, ...], preset: str = "tiny"
    ) -> list[list[float]]:
        """One mean CLS embedding per shot (empty for black), for spotting cues by meaning."""
        ...

    def shot_pictures(self, shots: tuple[ProgramSegmentSpec, ...]) -> list[ShotPicture | None]:
        """What each shot looks like (None for black), for telling worlds apart on real footage."""
        ...

    def refit(self, request: RefitRequest) -> CueResult:
        """A finished cue's saved notes re-timed onto a recut span and rendered again (no new
        music; `RefitRequest`); its WAV and tokens are written into `request.cue_dir`."""
        ...

    def preview(self, path: str, start_s: float, end_s: float) -> Preview: ...

    def info(self) -> EngineInfo: ...


# -- the service's other request bodies ------------------------------------------------------------


@dataclass(frozen=True)
class RegenerateRequest:
    """A new take of one cue of a job (`POST /jobs/{id}/regenerate`); None keeps what it was
    scored with."""

    cue_index: int
    seed: int | None = None
    prompt: str | None = None
    mood: str | None = None
    energy: str | None = None


@dataclass(frozen=True)
class ShotsRequest:
    """Shots to measure (`POST /shots/embeddings`, `/shots/pictures`)."""

    shots: tuple[ProgramSegmentSpec, ...]
    preset: str = "tiny"


@dataclass(frozen=True)
class ConditioningRequest:
    """One cue's conditioning (`POST /conditioning`)."""

    scene: SceneRequest
    preset: str = "tiny"


@dataclass(frozen=True)
class PreviewRequest:
    """A media range's still, rhythm curve and cuts (`POST /media/preview`)."""

    path: str
    start_s: float
    end_s: float
    points: int = 120


# -- the wire codec: one decoder per contract type ------------------------------------------------
#
# Every decoder takes the parsed JSON and the path of where it sits, checks types and bounds and
# raises SchemaError naming the field, so the service needs no schema of its own and a client
# hears `scenes.2.hit_points_s.0: ...` whichever side refused it. Unknown fields are ignored
# (an older engine reads a newer client), except in the program's parts, which are closed.

T = TypeVar("T")
_REQUIRED: Any = object()


class SchemaError(ValueError):
    """A document that is not the contract; `path` is dotted like `scenes.2.hit_points_s`."""

    def __init__(self, path: str, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path or 'body'}: {problem}")


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind(value: Any) -> str:
    """What a refused value was, short (the input is never echoed whole: it may be megabytes)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return (
            f"{value:g}"
            if isinstance(value, float)
            else (str(value) if abs(value) < 10**15 else "a huge number")
        )
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def _number(
    value: Any,
    where: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    what: str = "must be a finite number",
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(where, f"{what} (got {_kind(value)})")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise SchemaError(where, f"{what} (got {number})")
    if ge is not None and number < ge:
        raise SchemaError(where, f"at least {ge:g} (got {number:g})")
    if gt is not None and number <= gt:
        raise SchemaError(where, f"more than {gt:g} (got {number:g})")
    if le is not None and number > le:
        raise SchemaError(where, f"at most {le:g} (got {number:g})")
    return number


def _integer(value: Any, where: str, *, ge: int | None = None, le: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 2.0 from a writer without integers
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(where, f"must be a whole number (got {_kind(value)})")
    if ge is not None and value < ge:
        raise SchemaError(where, f"at least {ge} (got {_kind(value)})")
    if le is not None and value > le:
        raise SchemaError(where, f"at most {le} (got {_kind(value)})")
    return value


def _text(value: Any, where: str, *, max_chars: int | None = None, min_chars: int = 0) -> str:
    if not isinstance(value, str):
        raise SchemaError(where, f"must be a string (got {_kind(value)})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SchemaError(where, "is not a valid string (a lone surrogate: not UTF-8 text)") from None
    if max_chars is not None and len(value) > max_chars:
        raise SchemaError(where, f"at most {max_chars} characters (got {len(value)})")
    if len(value) < min_chars:
        raise SchemaError(where, f"at least {min_chars} character(s)")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(where, f"must be true or false (got {_kind(value)})")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(where, f"must be a JSON object (got {_kind(value)})")
    return value


def _tuple_of(
    value: Any,
    where: str,
    *,
    item: Callable[..., T],
    max_items: int | None = None,
    min_items: int = 0,
    **item_kw,
) -> tuple[T, ...]:
    if not isinstance(value, list | tuple):
        raise SchemaError(where, f"must be a list (got {_kind(value)})")
    if max_items is not None and len(value) > max_items:
        raise SchemaError(where, f"at most {max_items} items (got {len(value)})")
    if len(value) < min_items:
        raise SchemaError(where, f"at least {min_items} item(s) (got {len(value)})")
    return tuple(item(v, _join(where, i), **item_kw) for i, v in enumerate(value))


def _text_map(value: Any, where: str) -> dict[str, str]:
    return {_text(k, where): _text(v, _join(where, k)) for k, v in _object(value, where).items()}


def _pair(value: Any, where: str) -> tuple[float, float]:
    a, b = _tuple_of(value, where, item=_number, max_items=2, min_items=2)
    return a, b


def _choice(value: Any, where: str, *, choices: tuple[str, ...]) -> Any:
    if value not in choices:
        raise SchemaError(where, f"must be one of {', '.join(choices)} (got {_kind(value)})")
    return value


class _Doc:
    """One JSON object being decoded: each read names its field's path in any error."""

    def __init__(self, data: Any, path: str, closed: tuple[str, ...] | None = None):
        self.data, self.path = _object(data, path), path
        if closed is not None:
            for key in self.data:
                if key not in closed:
                    raise SchemaError(
                        _join(path, key), f"unknown field (malformed: the fields are {', '.join(closed)})"
                    )

    def __call__(
        self, key: str, check: Callable[..., T], default: Any = _REQUIRED, *, null: bool = False, **kw
    ) -> T:
        """Field `key` checked by `check`; `default` when absent (required without one); None
        passes when `null`."""
        if key not in self.data:
            if default is _REQUIRED:
                raise SchemaError(_join(self.path, key), "is required")
            return default
        value = self.data[key]
        if value is None and null:
            return None  # type: ignore[return-value]
        return check(value, _join(self.path, key), **kw)


def _fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def media_from_dict(data: Any, path: str = "") -> MediaRange:
    d = _Doc(data, path)
    media = MediaRange(
        d("path", _text, max_chars=MAX_PATH_CHARS, min_chars=1),
        d("start_s", _number, ge=0, le=MAX_MEDIA_S),
        d("end_s", _number, ge=0, le=MAX_MEDIA_S),
    )
    if media.end_s <= media.start_s:
        raise SchemaError(path or "media", "end_s must be after start_s")
    return media


def segment_from_dict(data: Any, path: str = "") -> ProgramSegmentSpec:
    d = _Doc(data, path, _fields(ProgramSegmentSpec))
    return ProgramSegmentSpec(
        path=d("path", _text, None, null=True, max_chars=MAX_PATH_CHARS),
        source_start_s=d("source_start_s", _number),
        source_end_s=d("source_end_s", _number),
        record_start_s=d("record_start_s", _number),
        record_end_s=d("record_end_s", _number),
        speed=d("speed", _number, 1.0),
        name=d("name", _text, ""),
    )


def edit_point_from_dict(data: Any, path: str = "") -> EditPointSpec:
    d = _Doc(data, path, _fields(EditPointSpec))
    return EditPointSpec(
        d("at_s", _number),
        d("span_start_s", _number, None, null=True),
        d("span_end_s", _number, None, null=True),
    )


def program_from_dict(data: Any, path: str = "") -> CueProgram:
    d = _Doc(data, path, _fields(CueProgram))
    return CueProgram(
        duration_s=d("duration_s", _number),
        segments=d("segments", _tuple_of, (), item=segment_from_dict),
        edit_points=d("edit_points", _tuple_of, (), item=edit_point_from_dict),
        markers_s=d("markers_s", _tuple_of, (), item=_number),
        world_changes_s=d("world_changes_s", _tuple_of, None, null=True, item=_number),
    )


def shot_picture_from_dict(data: Any, path: str = "") -> ShotPicture | None:
    """None for black (a shot with no picture)."""
    if data is None:
        return None
    d = _Doc(data, path, _fields(ShotPicture))
    unit = {"ge": 0.0, "le": 1.0}
    return ShotPicture(
        d("luma", _number, **unit),
        d("contrast", _number, **unit),
        d("saturation", _number, **unit),
        d("colour", _number, **unit),
        d("hues", _tuple_of, item=_number, **unit),
        d("motion", _number, **unit),
    )


def tempo_from_dict(data: Any, path: str = "") -> CueTempo:
    d = _Doc(data, path)
    return CueTempo(
        bpm=d("bpm", _number, gt=0),
        downbeat_s=d("downbeat_s", _number),
        beats_per_bar=d("beats_per_bar", _integer, 4, ge=1, le=16),
        steps_per_beat=d("steps_per_beat", _integer, 4, ge=1, le=16),
    )


def key_from_dict(data: Any, path: str = "") -> CueKey:
    d = _Doc(data, path)
    notes = tuple(sorted(set(d("notes", _tuple_of, item=_integer, ge=0, le=11))))
    if len(notes) != 7:
        raise SchemaError(_join(path, "notes"), f"a signature is seven pitch classes (got {len(notes)})")
    return CueKey(d("tonic", _integer, ge=0, le=11), d("mode", _text, max_chars=MAX_CONTROL_CHARS), notes)


def continuation_from_dict(data: Any, path: str = "") -> Continuation:
    d = _Doc(data, path)
    return Continuation(
        at_s=d("at_s", _number),
        tokens_path=d("tokens_path", _text, None, null=True, max_chars=MAX_PATH_CHARS),
        scene_index=d("scene_index", _integer, None, null=True, ge=0, le=MAX_INDEX),
        tempo=d("tempo", tempo_from_dict, None, null=True),
        key=d("key", key_from_dict, None, null=True),
    )


def scene_from_dict(data: Any, path: str = "") -> SceneRequest:
    d = _Doc(data, path)
    control = {"null": True, "max_chars": MAX_CONTROL_CHARS}
    return SceneRequest(
        index=d("index", _integer, ge=0, le=MAX_INDEX),
        name=d("name", _text, "scene", max_chars=MAX_TEXT_CHARS),
        duration_s=d("duration_s", _number, gt=0, le=MAX_SCENE_S),
        media=d("media", media_from_dict, None, null=True),
        hit_points_s=d(
            "hit_points_s",
            _tuple_of,
            (),
            item=_number,
            max_items=MAX_HIT_POINTS,
            what="hit points must be finite numbers",
        ),
        seed=d("seed", _integer, None, null=True, ge=0, le=SEED_LIMIT),
        prompt=d("prompt", _text, None, null=True, max_chars=MAX_TEXT_CHARS),
        take=d("take", _integer, 1, ge=1, le=MAX_INDEX),
        guidance=d("guidance", _number, None, null=True, ge=0.0, le=MAX_GUIDANCE),
        program=d("program", program_from_dict, None, null=True),
        handle_s=d("handle_s", _number, 0.0, ge=0.0, le=MAX_HANDLE_S),
        continue_from=d("continue_from", continuation_from_dict, None, null=True),
        ends=d("ends", _flag, False),
        mood=d("mood", _text, None, **control),
        energy=d("energy", _text, None, **control),
    )


def score_request_from_dict(data: Any, path: str = "") -> ScoreRequest:
    """`cue_dir` absent or null reads as "": in service mode, the engine's default folder."""
    d = _Doc(data, path)
    return ScoreRequest(
        scenes=d("scenes", _tuple_of, item=scene_from_dict, min_items=1, max_items=MAX_SCENES),
        cue_dir=d("cue_dir", _text, "", null=True, max_chars=MAX_PATH_CHARS) or "",
        preset=d("preset", _text, "tiny", max_chars=MAX_PRESET_CHARS),
        seed=d("seed", _integer, 0, ge=0, le=SEED_LIMIT),
        prompt=d("prompt", _text, None, null=True, max_chars=MAX_TEXT_CHARS),
        score_name=d("score_name", _text, "score", min_chars=1, max_chars=MAX_NAME_CHARS),
        hits=d("hits", _flag, True),
        stems=d("stems", _flag, False),
    )


def cue_from_dict(data: Any, path: str = "") -> CueResult:
    """A finished cue as the engine reports it (types checked; its numbers are the engine's)."""
    d = _Doc(data, path)
    text, maybe_text = {"check": _text}, {"check": _text, "default": None, "null": True}
    seconds = {"check": _tuple_of, "default": None, "null": True, "item": _number}
    return CueResult(
        index=d("index", _integer),
        name=d("name", **text),
        wav_path=d("wav_path", **text),
        duration_s=d("duration_s", _number),
        num_samples=d("num_samples", _integer),
        sample_rate=d("sample_rate", _integer),
        preset=d("preset", **text),
        seed=d("seed", _integer),
        prompt=d("prompt", **maybe_text),
        take=d("take", _integer),
        source_hash=d("source_hash", **text),
        engine_version=d("engine_version", **text),
        model_trained=d("model_trained", _flag),
        guidance=d("guidance", _number, None, null=True),
        handle_s=d("handle_s", _number, 0.0),
        tokens_path=d("tokens_path", **maybe_text),
        hits=d("hits", _flag, True),
        stems=d("stems", _text_map, {}),
        starts_world=d("starts_world", _flag, False),
        world_changes_s=d("world_changes_s", **seconds),
        program=d("program", program_from_dict, None, null=True),
        continued_from=d("continued_from", **maybe_text),
        mood=d("mood", **maybe_text),
        energy=d("energy", **maybe_text),
        tempo=d("tempo", tempo_from_dict, None, null=True),
        key=d("key", key_from_dict, None, null=True),
        hit_points_s=d("hit_points_s", **seconds),
    )


def score_result_from_dict(data: Any, path: str = "") -> ScoreResult:
    d = _Doc(data, path)
    return ScoreResult(d("cues", _tuple_of, item=cue_from_dict), d("warnings", _tuple_of, (), item=_text))


def refit_request_from_dict(data: Any, path: str = "") -> RefitRequest:
    """`cue_dir` absent or null reads as "" (see `score_request_from_dict`)."""
    d = _Doc(data, path)
    return RefitRequest(
        cue=d("cue", cue_from_dict),
        index=d("index", _integer, ge=0, le=MAX_INDEX),
        name=d("name", _text, "cue", max_chars=MAX_TEXT_CHARS),
        duration_s=d("duration_s", _number, gt=0, le=MAX_SCENE_S),
        anchors=d("anchors", _tuple_of, item=_pair, min_items=1, max_items=MAX_ANCHORS),
        cue_dir=d("cue_dir", _text, "", null=True, max_chars=MAX_PATH_CHARS) or "",
        score_name=d("score_name", _text, "score", min_chars=1, max_chars=MAX_NAME_CHARS),
        source_hash=d("source_hash", _text, "", max_chars=MAX_HASH_CHARS),
        program=d("program", program_from_dict, None, null=True),
        continue_from=d("continue_from", continuation_from_dict, None, null=True),
    )


def progress_from_dict(data: Any, path: str = "") -> ProgressEvent:
    d = _Doc(data, path)
    return ProgressEvent(
        scene_index=d("scene_index", _integer),
        scene_position=d("scene_position", _integer),
        scene_count=d("scene_count", _integer),
        scene_name=d("scene_name", _text),
        stage=d("stage", _choice, choices=STAGES),
        fraction=d("fraction", _number),
        elapsed_s=d("elapsed_s", _number),
        cue=d("cue", cue_from_dict, None, null=True),
    )


def job_from_dict(data: Any, path: str = "") -> Job:
    """The typed job from the service's JSON (`GET /jobs/{id}`); an empty event is none yet."""
    d = _Doc(data, path)
    event = d.data.get("event")
    return Job(
        id=d("id", _text),
        status=d("status", _choice, choices=JOB_STATUSES),
        progress=d("progress", _number, 0.0),
        event=progress_from_dict(event, _join(path, "event")) if event else None,
        error=d("error", _text, None, null=True),
        warnings=d("warnings", _tuple_of, (), item=_text),
        cues=d("cues", _tuple_of, (), item=cue_from_dict),
        stage=d("stage", _text, ""),
        created=d("created", _number, 0.0),
        updated=d("updated", _number, 0.0),
    )


def conditioning_from_dict(data: Any, path: str = "") -> CueConditioning:
    d = _Doc(data, path)
    return CueConditioning(
        fps=d("fps", _integer),
        curve=d("curve", _tuple_of, item=_number),
        cues=d("cues", _tuple_of, item=_number),
        edit_points_s=d("edit_points_s", _tuple_of, item=_number),
        cls_frames=d("cls_frames", _integer),
    )


def preview_from_dict(data: Any, path: str = "") -> Preview:
    d = _Doc(data, path)
    return Preview(
        d("rhythm", _tuple_of, item=_number),
        d("cuts_s", _tuple_of, item=_number),
        d("thumbnail_png_base64", _text),
    )


def engine_info_from_dict(data: Any, path: str = "") -> EngineInfo:
    """The typed engine info from the service's JSON (`GET /info`): `warm` and `jobs` (counts by
    status) are the wire's names."""
    d = _Doc(data, path)
    jobs = d("jobs", _object, {}, null=True) or {}
    counts = {status: _integer(n, _join(_join(path, "jobs"), status), ge=0) for status, n in jobs.items()}
    return EngineInfo(
        version=d("version", _text),
        api_version=d("api_version", _integer, API_VERSION),
        presets=d("presets", _tuple_of, (), item=_text),
        device=d("device", _text, "?"),
        warm_presets=d("warm", _tuple_of, (), item=_text),
        open_jobs=sum(n for status, n in counts.items() if status in OPEN_JOB_STATUSES),
        build=d("build", _text, None, null=True),
    )


def engine_info_to_dict(info: EngineInfo) -> dict[str, Any]:
    """EngineInfo in the wire's names (the service adds its job counts by status and cue root)."""
    return {
        "version": info.version,
        "api_version": info.api_version,
        "presets": list(info.presets),
        "device": info.device,
        "warm": list(info.warm_presets),
        "jobs": {"queued": info.open_jobs},
        "build": info.build,
    }


def regenerate_request_from_dict(data: Any, path: str = "") -> RegenerateRequest:
    d = _Doc(data, path)
    control = {"null": True, "max_chars": MAX_CONTROL_CHARS}
    return RegenerateRequest(
        cue_index=d("cue_index", _integer, ge=0, le=MAX_INDEX),
        seed=d("seed", _integer, None, null=True, ge=0, le=SEED_LIMIT),
        prompt=d("prompt", _text, None, null=True, max_chars=MAX_TEXT_CHARS),
        mood=d("mood", _text, None, **control),
        energy=d("energy", _text, None, **control),
    )


def shots_request_from_dict(data: Any, path: str = "") -> ShotsRequest:
    d = _Doc(data, path)
    return ShotsRequest(
        d("shots", _tuple_of, item=segment_from_dict, min_items=1, max_items=MAX_SCENES),
        d("preset", _text, "tiny", max_chars=MAX_PRESET_CHARS),
    )


def conditioning_request_from_dict(data: Any, path: str = "") -> ConditioningRequest:
    d = _Doc(data, path)
    return ConditioningRequest(
        d("scene", scene_from_dict), d("preset", _text, "tiny", max_chars=MAX_PRESET_CHARS)
    )


def preview_request_from_dict(data: Any, path: str = "") -> PreviewRequest:
    media = media_from_dict(data, path)
    points = _Doc(data, path)("points", _integer, 120, ge=PREVIEW_POINTS[0], le=PREVIEW_POINTS[1])
    return PreviewRequest(media.path, media.start_s, media.end_s, points)


# the decoder of each contract type; `to_dict` is their one encoder (EngineInfo has its own names)
DECODERS: dict[type, Callable[[Any, str], Any]] = {
    MediaRange: media_from_dict,
    ProgramSegmentSpec: segment_from_dict,
    EditPointSpec: edit_point_from_dict,
    CueProgram: program_from_dict,
    ShotPicture: shot_picture_from_dict,
    CueTempo: tempo_from_dict,
    CueKey: key_from_dict,
    Continuation: continuation_from_dict,
    SceneRequest: scene_from_dict,
    ScoreRequest: score_request_from_dict,
    CueResult: cue_from_dict,
    ScoreResult: score_result_from_dict,
    RefitRequest: refit_request_from_dict,
    ProgressEvent: progress_from_dict,
    Job: job_from_dict,
    CueConditioning: conditioning_from_dict,
    Preview: preview_from_dict,
    EngineInfo: engine_info_from_dict,
    RegenerateRequest: regenerate_request_from_dict,
    ShotsRequest: shots_request_from_dict,
    ConditioningRequest: conditioning_request_from_dict,
    PreviewRequest: preview_request_from_dict,
}


def from_dict(kind: type[T], data: Any, path: str = "") -> T:
    """`data` (parsed JSON) as contract type `kind`, or SchemaError naming the field."""
    return DECODERS[kind](data, path)


def to_dict(obj: Any) -> dict[str, Any]:
    """A contract object as JSON-ready data (tuples as lists), what its decoder reads back."""
    if isinstance(obj, EngineInfo):
        return engine_info_to_dict(obj)
    return json.loads(json.dumps(dataclasses.asdict(obj)))
