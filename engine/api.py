"""The contract between the editor side and the engine: plain dataclasses that travel as JSON.

Pure standard library on purpose: `vm_editor` imports this module and must never pull in torch,
onnxruntime or av. Times here are seconds; the editor converts from RationalTime at this edge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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
        tempo = cls(
            bpm=float(data["bpm"]),
            downbeat_s=float(data["downbeat_s"]),
            beats_per_bar=int(data.get("beats_per_bar", 4)),
            steps_per_beat=int(data.get("steps_per_beat", 4)),
        )
        if not (math.isfinite(tempo.bpm) and tempo.bpm > 0 and math.isfinite(tempo.downbeat_s)):
            raise ValueError(f"a cue's tempo needs a positive bpm and a finite downbeat, got {data!r}")
        if not (1 <= tempo.beats_per_bar <= 16 and 1 <= tempo.steps_per_beat <= 16):
            raise ValueError(f"a cue's meter is 1-16 beats of 1-16 steps, got {data!r}")
        return tempo


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
        key = cls(int(data["tonic"]), str(data["mode"]), tuple(sorted({int(n) for n in data["notes"]})))
        if not (0 <= key.tonic < 12 and len(key.notes) == 7 and all(0 <= n < 12 for n in key.notes)):
            raise ValueError(f"a cue's key is a tonic 0-11 and a signature of seven pitch classes, got {data!r}")
        return key


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
    except (KeyError, TypeError, ValueError):
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
            **({} if self.key is None else {"key": {**dataclasses.asdict(self.key), "notes": list(self.key.notes)}}),
            **({} if self.hit_points_s is None else {"hit_points_s": [round(t, 6) for t in self.hit_points_s]}),
        }


@dataclass(frozen=True)
class ScoreResult:
    cues: tuple[CueResult, ...]
    warnings: tuple[str, ...] = field(default=())


def to_json(obj: Any) -> str:
    return json.dumps(dataclasses.asdict(obj), sort_keys=True)


def program_from_dict(data: dict[str, Any]) -> CueProgram:
    return CueProgram(
        duration_s=float(data["duration_s"]),
        segments=tuple(ProgramSegmentSpec(**s) for s in data.get("segments", ())),
        edit_points=tuple(EditPointSpec(**e) for e in data.get("edit_points", ())),
        markers_s=tuple(float(t) for t in data.get("markers_s", ())),
        world_changes_s=None
        if data.get("world_changes_s") is None
        else tuple(float(t) for t in data["world_changes_s"]),
    )


def shot_picture_from_dict(data: dict[str, Any] | None) -> ShotPicture | None:
    if data is None:
        return None
    return ShotPicture(**{**data, "hues": tuple(float(h) for h in data["hues"])})


def scene_from_dict(data: dict[str, Any]) -> SceneRequest:
    media = data.get("media")
    program = data.get("program")
    cont = data.get("continue_from")
    return SceneRequest(
        index=int(data["index"]),
        name=str(data["name"]),
        duration_s=float(data["duration_s"]),
        media=None if media is None else MediaRange(**media),
        hit_points_s=tuple(float(t) for t in data.get("hit_points_s", ())),
        seed=data.get("seed"),
        prompt=data.get("prompt"),
        take=int(data.get("take", 1)),
        guidance=None if data.get("guidance") is None else float(data["guidance"]),
        program=None if program is None else program_from_dict(program),
        handle_s=float(data.get("handle_s", 0.0)),
        continue_from=None
        if cont is None
        else continuation_from_dict(cont),
        ends=bool(data.get("ends", False)),
        mood=data.get("mood"),
        energy=data.get("energy"),
    )


def continuation_from_dict(data: dict[str, Any]) -> Continuation:
    tempo, key = data.get("tempo"), data.get("key")
    return Continuation(
        float(data["at_s"]),
        data.get("tokens_path"),
        data.get("scene_index"),
        CueTempo.from_dict(tempo) if isinstance(tempo, dict) else None,
        CueKey.from_dict(key) if isinstance(key, dict) else None,
    )


def score_request_from_dict(data: dict[str, Any]) -> ScoreRequest:
    return ScoreRequest(
        scenes=tuple(scene_from_dict(s) for s in data["scenes"]),
        cue_dir=str(data["cue_dir"]),
        preset=str(data.get("preset", "tiny")),
        seed=int(data.get("seed", 0)),
        prompt=data.get("prompt"),
        score_name=str(data.get("score_name", "score")),
        hits=bool(data.get("hits", True)),
        stems=bool(data.get("stems", False)),
    )


def cue_from_dict(data: dict[str, Any]) -> CueResult:
    names = {f.name for f in dataclasses.fields(CueResult)}
    fields = {k: v for k, v in data.items() if k in names}
    if isinstance(fields.get("program"), dict):
        fields["program"] = program_from_dict(fields["program"])
    if fields.get("world_changes_s") is not None:
        fields["world_changes_s"] = tuple(float(t) for t in fields["world_changes_s"])
    if fields.get("hit_points_s") is not None:
        fields["hit_points_s"] = tuple(float(t) for t in fields["hit_points_s"])
    if isinstance(fields.get("tempo"), dict):
        fields["tempo"] = CueTempo.from_dict(fields["tempo"])
    if isinstance(fields.get("key"), dict):
        fields["key"] = CueKey.from_dict(fields["key"])
    return CueResult(**fields)


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


def refit_request_from_dict(data: dict[str, Any]) -> RefitRequest:
    cont = data.get("continue_from")
    program = data.get("program")
    return RefitRequest(
        cue=cue_from_dict(data["cue"]),
        index=int(data["index"]),
        name=str(data["name"]),
        duration_s=float(data["duration_s"]),
        anchors=tuple((float(a), float(b)) for a, b in data["anchors"]),
        cue_dir=str(data["cue_dir"]),
        score_name=str(data.get("score_name", "score")),
        source_hash=str(data.get("source_hash", "")),
        program=None if program is None else program_from_dict(program),
        continue_from=None
        if cont is None
        else continuation_from_dict(cont),
    )


def request_hash(request: ScoreRequest) -> str:
    """Identical requests (same scenes, settings and cue folder) share one result."""
    return hashlib.sha256(to_json(request).encode()).hexdigest()


# -- jobs, progress and the engine protocol -------------------------------------------------------

STAGES = ("queued", "features", "generate", "finish", "done")


@dataclass(frozen=True)
class ProgressEvent:
    """What a front end shows: which cue, which step, how far (0..1 over the whole request)."""

    scene_index: int
    scene_position: int  # 1-based position in the request
    scene_count: int
    scene_name: str
    stage: str  # one of STAGES
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


def progress_from_dict(data: dict[str, Any]) -> ProgressEvent:
    names = {f.name for f in dataclasses.fields(ProgressEvent)}
    fields = {k: v for k, v in data.items() if k in names}
    if isinstance(fields.get("cue"), dict):
        fields["cue"] = cue_from_dict(fields["cue"])
    return ProgressEvent(**fields)


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


def job_from_dict(data: dict[str, Any]) -> Job:
    """The typed job from the service's JSON (`GET /jobs/{id}`)."""
    event = data.get("event")
    return Job(
        id=str(data["id"]),
        status=str(data["status"]),
        progress=float(data.get("progress", 0.0)),
        event=None if not event else progress_from_dict(event),
        error=data.get("error"),
        warnings=tuple(data.get("warnings", ())),
        cues=tuple(cue_from_dict(c) for c in data.get("cues", ())),
    )


@dataclass(frozen=True)
class Job:
    """A score request as the engine tracks it."""

    id: str
    status: str  # "queued" | "running" | "done" | "failed" | "cancelled"
    progress: float
    event: ProgressEvent | None
    error: str | None
    warnings: tuple[str, ...]
    cues: tuple[CueResult, ...]


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


OPEN_JOB_STATUSES = ("queued", "running")


def engine_info_from_dict(data: dict[str, Any]) -> EngineInfo:
    """The typed engine info from the service's JSON (`GET /info`)."""
    jobs = data.get("jobs") or {}
    return EngineInfo(
        version=str(data["version"]),
        api_version=int(data.get("api_version", API_VERSION)),
        presets=tuple(data.get("presets", ())),
        device=str(data.get("device", "?")),
        warm_presets=tuple(data.get("warm", ())),
        open_jobs=sum(int(n) for status, n in jobs.items() if status in OPEN_JOB_STATUSES),
        build=data.get("build"),
    )


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
