"""The panel's view-model: what the Qt widgets show and the actions they call, without Qt.

Widgets in `ui/` only bind to this object (napari's split), so the behaviour is tested headless.
The engine is any `engine.api.Engine` (the panel runs the in-process one by default). Engine
work is non-blocking: `score_all` / `regenerate_selected` return a `PanelJob` at once; the view
runs `run(job)` on a worker thread, which only posts typed progress events and the outcome to the
job's inbox; `poll()` (a Qt timer calls it on the GUI thread) applies them to the rows. `cancel_all`
sets each job's cancel signal, which the engine checks between cues and while it generates.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import itertools
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from engine.api import (
    CueResult,
    Engine,
    EngineInfo,
    Preview,
    ProgressEvent,
    SceneRequest,
    ScoreRequest,
    ScoreResult,
    ScoringCancelled,
)
from vm_editor import cue_plan, format_fixups, request_limits, scene_ops, scoring, session, worlds
from vm_editor.errors import EditorInputError, OfflineMediaError, TimelineReadError
from vm_editor.media_links import forget_folder_index
from vm_editor.outputs import cue_folder_for
from vm_editor.program import Program, timeline_program
from vm_editor.scenes import Scene, SceneList, cue_label, offline_scenes
from vm_editor.score_options import ScoreOptions
from vm_editor.score_track import (
    ScoredCue,
    cue_from_metadata,
    read_score,
    without_score,
)
from vm_editor.timeline_io import (
    adapter_for,
    default_output_path,
    read_timeline_report,
)
from vm_editor.waveform import CueAudioError, check_cue_wav, peak_envelope

Listener = Callable[[str], None]


@dataclass
class CueSettings:
    """What the editor sets per cue; locked cues are skipped by "score all"."""

    prompt: str = ""
    preset: str = "tiny"
    seed: int = 0
    guidance: float | None = None  # `--guidance` (classifier-free guidance); None: the preset's
    locked: bool = False
    mood: str | None = None  # `--mood` (engine.api.CUE_MOODS); None: the prompt's words decide
    energy: str | None = None  # `--energy` (engine.api.CUE_ENERGIES); None: the prompt and mood decide


@dataclass
class SceneRow:
    scene: Scene
    settings: CueSettings
    takes: list[CueResult] = field(default_factory=list)
    current_take: int = -1  # index into takes
    state: str = "idle"  # idle | queued | running | done | failed | cancelled
    progress: float = 0.0
    error: str | None = None
    rhythm: list[float] = field(default_factory=list)  # the scene's rhythm curve, for the sparkline
    music_problem: str | None = None  # why the current take's WAV cannot be drawn or played
    thumbnail: bytes = b""  # PNG of the scene's middle frame

    @property
    def cue(self) -> CueResult | None:
        return self.takes[self.current_take] if self.takes else None


# The panel's options are the score's (`vm-editor panel` takes `vm-editor score`'s flags): one list
PanelOptions = ScoreOptions


def offline_note(offline: list[tuple[str, str]]) -> str:
    """Offline clips, with the panel's fix: its Relink… button, or scoring without pictures."""
    listed = "; ".join(f"clip {name!r} -> {url}" for name, url in offline[:5])  # as the CLI lists them
    more = f" (and {len(offline) - 5} more)" if len(offline) > 5 else ""
    return (
        f"{len(offline)} clip(s) have offline media: {listed}{more}. Click Relink… and choose the "
        'folder that holds the files, or tick "score offline clips without pictures"'
    )


class RateNeeded(TimelineReadError):
    """The file's format does not record its frame rate (an EDL): ask for one, then open again
    with `rate=`. `choices` are the rates its timecodes allow; `likely` the one to offer first."""

    def __init__(self, path: Path, choices: list[float], likely: float):
        super().__init__(f"{path}: an EDL does not record its frame rate; choose the rate it was cut at")
        self.path, self.choices, self.likely = Path(path), choices, likely


@dataclass
class PanelJob:
    """One score request on its way through the engine. `inbox` receives, from the worker
    thread, `ProgressEvent`s and then one outcome: a `ScoreResult`, `ScoringCancelled` or the
    exception that stopped it."""

    id: int
    positions: list[int]
    request: ScoreRequest
    later: tuple[ScoreRequest, ...] = ()  # --takes N: the other takes, scored after `request`
    cancel: threading.Event = field(default_factory=threading.Event)
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    progress: float = 0.0


def _tagged(call: Callable[[], Preview], generation: int) -> dict:
    return {**dataclasses.asdict(call()), "generation": generation}


def take_label(number: int, take: CueResult) -> str:
    """How the take list names a take: its number, seed, the tempo and key it plays in (what a
    music editor cuts to and writes around: "take 2 · seed 4711 · 96 bpm 3/4 · A minor")."""
    text = f"take {number} · seed {take.seed}"
    if take.tempo is not None:
        text += f" · {take.tempo.bpm:.0f} bpm {take.tempo.beats_per_bar}/4"
    if take.key is not None:
        text += f" · {take.key.name}"
    return text


def timecode(t: otio.opentime.RationalTime, rate: float) -> str:
    drop = abs(rate - 29.97) < 0.01 or abs(rate - 59.94) < 0.01
    try:
        return otio.opentime.to_timecode(t.rescaled_to(rate), rate, drop_frame=drop)
    except Exception:  # rates with no timecode standard (e.g. 23.5)
        return f"{t.to_seconds():.3f}s"


@dataclass(frozen=True)
class Opened:
    """A timeline read and planned (`PanelModel.read`), ready to show."""

    path: Path
    timeline: otio.schema.Timeline  # without our score and takes tracks
    scene_list: SceneList
    program: Program  # what the viewer sees over the chosen track(s): merge and split re-plan on it
    score_name: str | None  # the score track's name when the file was scored
    scored: tuple[ScoredCue, ...]  # its cues and takes (empty: not scored)
    notes: tuple[str, ...]  # warnings, as the CLI prints them
    rate: float | None = None  # the rate it was read at, when the file does not record one (EDL)
    # a scored file: how its cues fit the cut (`session.conform_report`), the summary line first
    conform_report: tuple[str, ...] = ()
    conformed: bool = False  # the report is of a conform just made (Conform…), not a check


class PanelModel:
    def __init__(self, engine: Engine | None = None, options: PanelOptions | None = None):
        self.engine = engine
        self.options = options or PanelOptions()
        self.timeline: otio.schema.Timeline | None = None
        self.timeline_path: Path | None = None
        self.scene_list: SceneList | None = None
        self.program: Program | None = None
        self.rows: list[SceneRow] = []
        self.selection: set[int] = set()
        self.jobs: dict[int, PanelJob] = {}  # jobs not finished yet, by id
        self._job_ids = itertools.count(1)
        self._engine_turn = threading.Lock()  # one score at a time: the generator is not reentrant
        self.error: str | None = None
        self.warning: str | None = None  # what the CLI prints as `warning:` lines
        self.score_name: str | None = None  # the score track's name in a reopened scored timeline
        self.outcome: str | None = None  # how the last job ended: done | cancelled | failed
        self._last_progress = 0.0  # its progress when it ended
        self._last_asked: list[int] = []  # its rows
        self.engine_status: EngineInfo | None = None
        self.opened_rate: float | None = None  # the rate the open file was read at (an EDL's)
        self.audio_problem: str | None = None  # why the preview cannot play (no audio device...)
        self.generation = 0  # bumped on every open, so late answers for an old timeline are dropped
        self.conform_report: tuple[str, ...] = ()  # the open score's conform report (see `Opened`)
        self._listeners: list[Listener] = []

    # -- observation ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    def set_error(self, message: str | None) -> None:
        self.error = message
        self._changed("error")

    def set_warning(self, message: str | None) -> None:
        self.warning = message
        self._changed("error")

    def banner_text(self) -> str:
        """The banner: the error (what stopped an action), else the warnings (what was assumed),
        and a sound problem of the preview beside either."""
        text = self.error or (f"warning: {self.warning}" if self.warning else "")
        if self.audio_problem:
            text = f"{text}\n{self.audio_problem}" if text else self.audio_problem
        return text

    # -- timeline ------------------------------------------------------------------------------
    def rate_choices(self, path: Path) -> tuple[list[float], float] | None:
        """(rates, likeliest) when `path`'s format does not record its rate (EDL), else None."""
        if adapter_for(Path(path)) != "cmx_3600" or not Path(path).is_file():
            return None
        return format_fixups.edl_rate_choices(Path(path))

    def open(
        self, path: Path, *, track: int | None = None, rate: float | None = None, project: str | None = None
    ) -> None:
        """Open a timeline as `vm-editor score` reads it: the same cue plan (`--cues`, auto by
        default, through `scoring.plan_cues`), or, for a scored timeline, its cues with their music
        and takes. An EDL without a rate raises `RateNeeded` (the view asks, then opens again)."""
        self.show(self.read(path, track=track, rate=rate, project=project))

    def plans_with_engine(self) -> bool:
        """Opening asks the engine (auto plans embed the shots): the view reads off the GUI thread."""
        return self.options.cues == "auto" and self.engine is not None

    def read(
        self, path: Path, *, track: int | None = None, rate: float | None = None, project: str | None = None
    ) -> Opened:
        """Read and plan `path` without touching the model (safe on a worker thread); `show`
        then puts it on screen."""
        o = self.options
        track = o.track if track is None else track
        rate = o.rate if rate is None else rate
        project = o.project if project is None else project
        if rate is None and (choices := self.rate_choices(path)) is not None:
            raise RateNeeded(Path(path), *choices)
        report = read_timeline_report(path, rate=rate, project=project)
        notes = list(report.warnings)
        scored = read_score(report.timeline, Path(path))
        if scored:
            timeline, score_name = without_score(report.timeline)
            scene_list = scoring.scored_cues(
                report.timeline, scored, timeline_path=Path(path), track=track, relink=o.relink
            )
        else:
            timeline, score_name = report.timeline, None
            scene_list, note = self._plan(report.timeline, Path(path), track)
            notes += [note] if note else []
        program = timeline_program(report.timeline, track=track, timeline_path=Path(path), relink=o.relink)
        program = worlds.with_worlds_of(program, scene_list)  # merged or split cues keep them
        if offline := offline_scenes(scene_list):
            notes.append(offline_note(offline))
        report = session.conform_report(report.timeline, Path(path), o) if scored else ()
        return Opened(
            Path(path), timeline, scene_list, program, score_name, tuple(scored), tuple(notes), rate, report
        )

    def conform_output(self, new: Path) -> Path:
        """Where Conform… writes NEW scored: where `vm-editor conform OLD NEW` writes it."""
        return default_output_path(Path(new))

    def read_conform(self, old: Path, new: Path, *, force: bool = False) -> Opened:
        """Conform… (`vm-editor conform OLD NEW`, safe on a worker thread): NEW scored from OLD's
        cues through `session.conform` (kept, re-fit, regenerated, new, removed), written where the
        CLI writes it, then read as `read` reads it, carrying the conform's report."""
        if self.engine is None:
            raise EditorInputError("no engine: start the panel with one (`vm-editor panel`)")
        written = session.conform(Path(old), Path(new), self.options, self.engine, force=force)
        opened = self.read(written.path)
        return dataclasses.replace(opened, conform_report=written.conform_report, conformed=True)

    def show(self, opened: Opened) -> None:
        """Make `opened` the panel's timeline (GUI thread): rows, takes, settings, banner."""
        self.timeline, self.timeline_path, self.scene_list = opened.timeline, opened.path, opened.scene_list
        self.opened_rate = opened.rate
        self.program = opened.program
        self.score_name = opened.score_name
        self.generation += 1
        self.rows = [SceneRow(s, self._first_settings(s)) for s in opened.scene_list.scenes]
        for row, cue in zip(self.rows, opened.scored, strict=False):
            row.takes = [cue_from_metadata(meta) for meta in cue.takes]
            row.current_take = len(row.takes) - 1
            row.state, row.progress = "done", 1.0
            latest = row.takes[-1]
            row.settings = dataclasses.replace(
                row.settings,
                seed=latest.seed,
                prompt=latest.prompt or "",
                preset=latest.preset,
                guidance=latest.guidance,
                mood=latest.mood,
                energy=latest.energy,
            )
        self.selection = set()
        self.cancel_all()  # a job for the previous timeline stops; its answers are dropped
        self.jobs = {}
        self.outcome, self._last_progress, self._last_asked = None, 0.0, []
        self.error = None
        self.conform_report = opened.conform_report
        notes = list(opened.notes)
        if opened.conform_report and not opened.conformed and not conform_unchanged(opened.conform_report):
            notes.append(
                "the cut changed under some cues since they were scored (see the status line); "
                "Conform… with the earlier scored cut, or `vm-editor score`, re-fits or regenerates them"
            )
        self.warning = "; ".join(notes) or None
        self._changed("scenes")
        self._changed("error")

    def _plan(self, timeline: otio.schema.Timeline, path: Path, track: int | None) -> tuple[SceneList, str]:
        """`scoring.plan_cues` as the CLI calls it. When the engine cannot embed the shots (it is
        unavailable) an auto plan keeps gaps and cue markers only, and says so."""
        o = self.options
        plan = functools.partial(session.plan, timeline, path, o, track=track)
        if self.engine is None:
            return plan(None), ""
        try:  # any mode: the engine's worlds also hold each cue's style
            return plan(self.engine), ""
        except EditorInputError:
            raise
        except Exception as exc:  # the engine is unreachable or failed: plan without it, visibly
            if o.cues != "auto":
                return plan(None), ""
            return plan(None), f"cues planned at gaps and cue markers only (engine unavailable: {exc})"

    def _first_settings(self, scene: Scene) -> CueSettings:
        o = self.options
        return CueSettings(
            prompt=o.prompt or "",
            preset=o.preset,
            seed=scoring.cue_seed(o.first_seed, scene.index),
            guidance=o.guidance,
            mood=scoring.control(o.mood),
            energy=scoring.control(o.energy),
        )

    @property
    def rate(self) -> float:
        return self.scene_list.rate if self.scene_list else 24.0

    def row_label(self, position: int) -> dict:
        row = self.rows[position]
        record = row.scene.record_range
        return {
            "number": str(row.scene.index),  # the cue number: --cue K, cueKKK in the WAV name
            "cue": cue_label(row.scene.index),
            "name": row.scene.name,
            "in": timecode(record.start_time, self.rate),
            "out": timecode(record.end_time_exclusive(), self.rate),
            "duration_s": record.duration.to_seconds(),
            "markers": len(row.scene.markers),
            "state": row.state,
            "takes": len(row.takes),
            "offline": row.scene.offline,
            "music": row.cue is not None,
            "music_problem": row.music_problem,
        }

    def summary(self) -> str:
        """The status line after opening: which file, how many cues, at what rate."""
        if self.timeline_path is None:
            return "Open a timeline to begin (Ctrl+O)."
        scored = ", scored" if any(r.takes for r in self.rows) else ""
        conformed = f"; conform: {c}" if (c := self.conform_summary()) else ""
        return f"{self.timeline_path.name}: {len(self.rows)} cue(s) at {self.rate:g} fps{scored}{conformed}"

    def conform_summary(self) -> str | None:
        """The open score's conform summary ("K kept, R re-fit, G regenerated, N new, M removed")."""
        return self.conform_report[0].removeprefix("conform: ") if self.conform_report else None

    def music_peaks(self, position: int, bins: int = 200) -> list[float]:
        """The chosen take's waveform for drawing; empty when it has none or its WAV cannot be
        read (emptied, damaged, a FIFO in its place: the row says so, the panel goes on)."""
        cue = self.rows[position].cue
        if cue is None:
            return []
        try:
            peaks = peak_envelope(cue.wav_path, bins).tolist()
        except CueAudioError as exc:
            self.note_music_problem(position, str(exc))
            return []
        self.rows[position].music_problem = None
        return peaks

    def playable_music(self, position: int) -> str | None:
        """The chosen take's WAV when a player can be given it (never a FIFO or a damaged file)."""
        cue = self.rows[position].cue
        if cue is None:
            return None
        try:
            check_cue_wav(cue.wav_path)
        except CueAudioError as exc:
            self.note_music_problem(position, str(exc))
            return None
        return cue.wav_path

    def note_music_problem(self, position: int, problem: str) -> None:
        """Say on the cue's row why its music cannot be drawn or played."""
        if self.rows[position].music_problem != problem:
            self.rows[position].music_problem = problem
            self._changed(f"state:{position}")

    def preview_media(self, position: int) -> tuple[str, float, float] | None:
        """(file, start s, end s) of the picture to show for a cue: its clip, or for a cue over the
        program its first shot whose media is online; None when it shows none."""
        scene = self.rows[position].scene
        if scene.source is not None and scene.source.exists:
            mr = scene.source.media_range
            return str(scene.source.path), mr.start_time.to_seconds(), mr.end_time_exclusive().to_seconds()
        for seg in scene.program.pictures() if scene.program is not None else ():
            if not seg.offline and seg.path is not None:
                a, b = float(seg.source_in), float(seg.source_out)
                return str(seg.path), min(a, b), max(a, b) if a != b else a + 1.0 / self.rate
        return None

    def select(self, positions: set[int]) -> None:
        self.selection = {p for p in positions if 0 <= p < len(self.rows)}
        self._changed("selection")

    def _replan(self, spans: list[cue_plan.Span], settings: list[CueSettings]) -> None:
        """New cues over the program, as `--merge` / `--split-at-markers` make them; a seed still at
        its derived value follows its cue's new number (so the CLI's plan gets the CLI's seeds)."""
        scene_list = cue_plan.cue_scenes(self.program, spans, self.scene_list.track_name)
        old = [r.scene.index for r in self.rows]
        derived = {scoring.cue_seed(self.options.first_seed, i) for i in old}
        rows = []
        for scene, s in zip(scene_list.scenes, settings, strict=True):
            if s.seed in derived:
                s = dataclasses.replace(s, seed=scoring.cue_seed(self.options.first_seed, scene.index))
            rows.append(SceneRow(scene, s))
        self.scene_list, self.rows = scene_list, rows
        self.selection = set()
        self._changed("scenes")

    def _spans(self) -> list[cue_plan.Span]:
        return [
            (int(r.scene.record_range.start_time.value), int(r.scene.record_range.end_time_exclusive().value))
            for r in self.rows
        ]

    def merge(self, positions: list[int]) -> None:
        """Adjacent cues into one, over the black between them (`cue_plan.merge_spans`, what
        `--merge A-B` does): it follows every shot of the span and marks their cuts."""
        positions = sorted(positions)
        if len(positions) < 2 or positions != list(range(positions[0], positions[-1] + 1)):
            raise EditorInputError("select two or more adjacent cues to merge")
        first, last = positions[0], positions[-1]
        spans = cue_plan.merge_spans(self._spans(), first, last)
        settings = [r.settings for r in self.rows[:first]] + [self.rows[first].settings]
        settings += [r.settings for r in self.rows[last + 1 :]]
        self._replan(spans, [dataclasses.replace(s) for s in settings])

    def split(self, position: int, at_s: float) -> None:
        """One cue into two, `at_s` seconds after its start."""
        lo, hi = self._spans()[position]
        at = lo + round(at_s * self.rate)
        if not lo < at < hi:
            raise EditorInputError(
                f"split point must be inside cue {self.rows[position].scene.index} "
                f"({self.rows[position].scene.name!r})"
            )
        spans = self._spans()
        spans[position : position + 1] = [(lo, at), (at, hi)]
        settings = [dataclasses.replace(r.settings) for r in self.rows]
        settings[position : position + 1] = [settings[position], dataclasses.replace(settings[position])]
        self._replan(spans, settings)

    def _current_list(self) -> SceneList:
        return dataclasses.replace(self.scene_list, scenes=tuple(r.scene for r in self.rows))

    def move_edge(self, position: int, edge: str, at_frame: int) -> None:
        """Move cue `position`'s "start" or "end" to record frame `at_frame` (the cut view snaps it
        to an edit point); a touching neighbour's edge moves with it (scene_ops.move_edge). The cues
        whose span changed lose their takes; the others, and the selection, are kept."""
        program = self.program
        if program is None:
            raise EditorInputError("open a timeline first")
        at = otio.opentime.RationalTime(at_frame, program.rate)
        moved = scene_ops.move_edge(self._current_list(), program, position, edge, at)
        for p, (row, scene) in enumerate(zip(self.rows, moved.scenes, strict=True)):
            if scene.record_range == row.scene.record_range:
                row.scene = scene
            else:
                self.rows[p] = SceneRow(scene, row.settings)
        self._changed("scenes")
        self._changed("selection")

    def roll_seed(self, position: int) -> int:
        self.rows[position].settings.seed = random.randrange(2**31 - 1)
        self._changed(f"row:{position}")
        return self.rows[position].settings.seed

    def preview_calls(self) -> list[tuple[int, Callable[[], dict]]]:
        """(row, call) pairs that fetch each scene's still and rhythm curve from the engine.

        Each call's answer carries the timeline generation it was asked for (see apply_preview).
        """
        calls = []
        for position in range(len(self.rows)):
            media = self.preview_media(position)
            if media is not None:
                ask = functools.partial(self.engine.preview, *media)
                calls.append((position, functools.partial(_tagged, ask, self.generation)))
        return calls

    def apply_preview(self, position: int, doc: dict) -> None:
        if doc.get("generation", self.generation) != self.generation:
            return  # an answer about a timeline that is no longer open
        if 0 <= position < len(self.rows):
            self.rows[position].rhythm = list(doc.get("rhythm", []))
            self.rows[position].thumbnail = base64.b64decode(doc.get("thumbnail_png_base64", ""))
            self._changed(f"cue:{position}")

    # -- relink --------------------------------------------------------------------------------
    def offline_clips(self) -> list[tuple[str, str]]:
        """(clip name, media URL) of every clip of the open timeline whose media is not found."""
        return offline_scenes(self.scene_list) if self.scene_list is not None else []

    def add_relink_folder(self, folder: Path) -> None:
        """Search `folder` and its subfolders for offline media by file name, as `--relink` does;
        the view then reads the timeline again (`read(path, rate=opened_rate)`) and shows it.
        The folder's index is forgotten first: files copied there since are found."""
        folder = Path(folder)
        if not folder.is_dir():
            raise EditorInputError(f"{folder}: not a folder; choose the folder that holds the media")
        forget_folder_index()
        if str(folder) not in self.options.relink:
            self.set_options(relink=(*self.options.relink, str(folder)))

    def relink_report(self, before: int) -> str:
        """What a relink did, for the status line: found, and still offline."""
        after = len(self.offline_clips())
        found = max(0, before - after)
        if after == 0:
            return f"Relinked: {found} clip(s) found; every clip is online."
        return f"Relinked: {found} clip(s) found, {after} still offline (try another folder)."

    def set_audio_problem(self, message: str | None) -> None:
        """The preview cannot play sound (no audio device, no audio library): said in the window."""
        self.audio_problem = message
        self._changed("error")

    # -- engine --------------------------------------------------------------------------------
    def set_options(self, **changes) -> None:
        """Score-wide settings (`hits`, `stems`) for the next jobs."""
        self.options = dataclasses.replace(self.options, **changes)
        self._changed("options")

    def cue_folder(self) -> Path:
        """Where the panel's cues end up, as with `vm-editor score` / `regenerate`: beside the
        cues the timeline already has (a scored timeline), else the cue folder of the output it
        would write (`cut.otio` -> `cut_scored_otio_cues/`, `outputs.cue_folder_for`); `--cue-dir` wins."""
        if self.options.cue_dir:
            return Path(self.options.cue_dir).resolve()
        for row in self.rows:
            if row.cue is not None:
                return Path(row.cue.wav_path).resolve().parent
        if self.timeline_path is None:
            return Path.cwd() / "score_cues"
        return cue_folder_for(default_output_path(self.timeline_path.resolve()))

    def _engine_writes_elsewhere(self) -> bool:
        """The service writes only inside its own cue root; the panel then moves the cues."""
        return session.engine_writes_elsewhere(self.engine)

    def _request(self, positions: list[int]) -> ScoreRequest:
        """Scoring's requests (continuity, handles) with each row's seed, prompt, guidance, take."""
        every = scoring.scene_requests([r.scene for r in self.rows])
        scenes = []
        for p in positions:
            row = self.rows[p]
            scenes.append(
                dataclasses.replace(
                    every[p],
                    seed=row.settings.seed,
                    prompt=row.settings.prompt or None,
                    guidance=row.settings.guidance,
                    mood=row.settings.mood,
                    energy=row.settings.energy,
                    take=len(row.takes) + 1,
                    # a cue that opened a new world (a reopened score knows it from its metadata)
                    continue_from=None
                    if row.cue is not None and row.cue.starts_world
                    else every[p].continue_from,
                )
            )
        scenes = [_with_worlds_of_cue(s, self.rows[p].cue) for s, p in zip(scenes, positions, strict=True)]
        finished = {r.scene.index: r.cue for r in self.rows if r.cue is not None}
        folder = self.cue_folder()
        return ScoreRequest(
            scenes=scoring.continue_from_finished(scenes, finished),
            cue_dir=session.engine_cue_dir(self.engine, folder),
            preset=self.rows[positions[0]].settings.preset,
            seed=self.options.first_seed,
            prompt=self.options.prompt or None,
            score_name=self.timeline_path.stem if self.timeline_path else "score",
            hits=self.options.hits,
            stems=self.options.stems,
        )

    def submit(self, positions: list[int], *, takes: int = 1) -> PanelJob | None:
        """A job for the unlocked rows among `positions` (`takes` takes of each, the last one
        playing, as `score --takes`); the view then runs `run(job)` off the GUI thread. None when
        there is nothing to do (the engine is never asked)."""
        positions = [p for p in positions if not self.rows[p].settings.locked]
        if not positions:
            return None
        if self.engine is None:
            raise EditorInputError("no engine: start the panel with one (`vm-editor panel`)")
        asked = dataclasses.replace(self.scene_list, scenes=tuple(self.rows[p].scene for p in positions))
        if (offline := offline_scenes(asked)) and not self.options.allow_offline:
            raise OfflineMediaError(offline_note(offline))  # the panel's own fix, not the CLI's flags
        warning = scoring.check_offline(asked, self.timeline_path, self.options.allow_offline)
        self.error = None  # refused or not, the banner now speaks of this request
        self.set_warning(warning)
        request = self._request(positions)
        where = self.timeline_path or "the timeline"
        request_limits.check_request_size(where, request)  # said in plain words, before any work
        if self._engine_writes_elsewhere():  # the service reads one JSON body of limited size
            request_limits.check_body_size(where, request)
        later = tuple(scoring.take_request(request, k) for k in range(2, takes + 1))
        job = PanelJob(next(self._job_ids), positions, request, later)
        if not self.jobs:  # a new batch of work: the status speaks of it alone
            self.outcome, self._last_asked = None, []
        self.jobs[job.id] = job
        for p in positions:
            self.rows[p].state, self.rows[p].progress, self.rows[p].error = "queued", 0.0, None
        self._changed("jobs")
        return job

    def run(self, job: PanelJob) -> None:
        """Score `job` through the engine (blocking: call it on a worker thread). Touches no row:
        everything it learns goes to the job's inbox, which `poll()` applies on the GUI thread."""
        with self._engine_turn:
            if job.cancel.is_set():
                job.inbox.put(ScoringCancelled())
                return
            cues: list[CueResult] = []
            warnings: list[str] = []
            try:
                for request in (job.request, *job.later):
                    result = self.engine.score(request, progress=job.inbox.put, cancel=job.cancel)
                    cues += result.cues
                    warnings += [w for w in result.warnings if w not in warnings]
                outcome = ScoreResult(tuple(cues), tuple(warnings))
            except ScoringCancelled as exc:  # the takes finished before it stay
                outcome = ScoringCancelled((*cues, *exc.cues))
            except Exception as exc:  # EngineError, a bug: shown on the rows/banner
                outcome = exc
            job.inbox.put(outcome)

    def score_all(self) -> PanelJob | None:
        """Every unlocked cue, `--takes` takes of each."""
        return self.submit(list(range(len(self.rows))), takes=self.options.takes)

    def regenerate_selected(self) -> PanelJob | None:
        """A new take of each selected cue by the one regenerate rule (`scoring.next_take`, as
        `vm-editor regenerate`): numbered after its last take, its seed after the last one's."""
        for p in self.selection:
            row = self.rows[p]
            _, row.settings.seed = scoring.next_take(len(row.takes), row.settings.seed)
        return self.submit(sorted(self.selection))

    def cancel_all(self) -> None:
        """Ask every job to stop (Esc); cues already finished are kept."""
        for job in self.jobs.values():
            job.cancel.set()
        if self.jobs:
            self._changed("jobs")

    def poll(self) -> None:
        """Apply what the workers posted: progress, finished cues, each job's outcome."""
        for job in list(self.jobs.values()):
            while True:
                try:
                    item = job.inbox.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, ProgressEvent):
                    self._on_event(job, item)
                else:
                    self._on_outcome(job, item)
        self._changed("progress")

    def _row_of(self, job: PanelJob, scene_index: int) -> int | None:
        return next((p for p in job.positions if self.rows[p].scene.index == scene_index), None)

    def _on_event(self, job: PanelJob, event: ProgressEvent) -> None:
        job.progress = event.fraction
        position = self._row_of(job, event.scene_index)
        if position is None:
            return
        row = self.rows[position]
        if event.cue is not None:
            self._add_take(position, event.cue)
        elif row.state != "done":
            row.state = "running"
            within = event.fraction * event.scene_count - (event.scene_position - 1)
            row.progress = min(max(within, 0.0), 1.0)

    def _add_take(self, position: int, cue: CueResult) -> None:
        row = self.rows[position]
        # the outcome repeats the cues its "done" events brought; those the panel moved are
        # known by their file name (the service's copy is gone by then)
        if any(Path(t.wav_path).name == Path(cue.wav_path).name for t in row.takes):
            row.state, row.progress = "done", 1.0
            return
        if self._engine_writes_elsewhere():
            try:  # moved beside the timeline, unless the engine wrote it there (session.deliver)
                (cue,) = session.deliver(self.engine, [cue], self.cue_folder())
            except OSError as exc:  # gone or not a file (a FIFO across file systems): said on the row
                row.music_problem = f"{Path(cue.wav_path).name}: cannot be moved beside the timeline ({exc})"
        row.takes.append(cue)
        row.current_take = len(row.takes) - 1
        row.state, row.progress = "done", 1.0
        self._changed(f"cue:{position}")

    def _on_outcome(self, job: PanelJob, outcome: object) -> None:
        self.jobs.pop(job.id, None)
        self._last_progress = job.progress
        self._last_asked += [p for p in job.positions if p not in self._last_asked]
        if isinstance(outcome, ScoreResult):
            cues, state = outcome.cues, "done"
            if outcome.warnings:  # what the CLI prints as `warning:` lines (unknown prompt words...)
                self.set_warning("; ".join(dict.fromkeys([*filter(None, [self.warning]), *outcome.warnings])))
        elif isinstance(outcome, ScoringCancelled):
            cues, state = outcome.cues, "cancelled"
        else:
            cues, state = (), "failed"
            self.set_error(f"scoring failed: {outcome}")
        for cue in cues:  # normally each came on its "done" event already
            position = self._row_of(job, cue.index)
            if position is not None:
                self._add_take(position, cue)
        for p in job.positions:
            if self.rows[p].state in ("queued", "running"):
                self.rows[p].state, self.rows[p].progress = state, 0.0
        if self.outcome in (None, "done"):  # a cancelled or failed job is said until the next one
            self.outcome = state
        self._changed("jobs")

    def overall_progress(self) -> float:
        """Mean progress of the jobs still running; when none runs, 1.0 only if the last one
        finished (a cancelled or failed one stays where it stopped)."""
        if self.jobs:
            return sum(j.progress for j in self.jobs.values()) / len(self.jobs)
        if self.outcome in ("cancelled", "failed"):
            return min(self._last_progress, 0.999)
        return 1.0 if self.outcome == "done" or any(r.takes for r in self.rows) else 0.0

    def status_text(self) -> str:
        """The status line: what runs, or how the last job ended (never "Ready." after Esc)."""
        if self.jobs:
            stopping = all(job.cancel.is_set() for job in self.jobs.values())
            return "Cancelling…" if stopping else "Generating…"
        asked = [p for p in self._last_asked if p < len(self.rows)]
        finished = sum(self.rows[p].state == "done" for p in asked)
        if self.outcome == "cancelled":
            return f"Scoring cancelled: {finished} of {len(asked)} cue(s) finished."
        if self.outcome == "failed":
            return f"Scoring failed: {finished} of {len(asked)} cue(s) finished."
        return "Ready." if self.outcome == "done" else self.summary()

    def use_take(self, position: int, take: int) -> None:
        row = self.rows[position]
        if not 0 <= take < len(row.takes):
            raise EditorInputError(f"cue {row.scene.index} ({row.scene.name!r}) has no take {take + 1}")
        row.current_take = take
        self._changed(f"cue:{position}")

    # -- export --------------------------------------------------------------------------------
    def default_export_path(self) -> Path | None:
        """Where `vm-editor score` would write (`<stem>.scored.<ext>`, .otio for EDL and AAF)."""
        return default_output_path(self.timeline_path) if self.timeline_path else None

    def export(self, path: Path, *, force: bool = False) -> Path:
        """The scored timeline as `vm-editor score` / `regenerate` write it: each cue's chosen take
        on the score track, its other takes disabled on the takes track."""
        if self.timeline is None:
            raise EditorInputError("open a timeline first")
        rows = [r for r in self.rows if r.cue is not None]
        if not rows:
            raise EditorInputError("nothing to export yet: score at least one cue")
        return session.export(
            self.timeline,
            [r.scene for r in rows],
            [r.cue for r in rows],
            Path(path),
            options=self.options,
            earlier={r.scene.index: [t for t in r.takes if t is not r.cue] for r in rows},
            track_name=self.score_name,
            input_path=self.timeline_path,
            force=force,
            replace_input=self.score_name is not None,  # the file we opened is a score: it may be replaced
        )


def conform_unchanged(report: tuple[str, ...]) -> bool:
    """Whether a conform report keeps every cue (nothing re-fit, regenerated, new or removed)."""
    return bool(report) and report[0].endswith("0 re-fit, 0 regenerated, 0 new, 0 removed")


def _with_worlds_of_cue(scene: SceneRequest, cue: CueResult | None) -> SceneRequest:
    """A reopened score's cue keeps the world changes it was scored with (its style holds there)."""
    program = scene.program
    if program is None or program.world_changes_s is not None or cue is None or cue.world_changes_s is None:
        return scene
    return dataclasses.replace(
        scene, program=dataclasses.replace(program, world_changes_s=cue.world_changes_s)
    )
