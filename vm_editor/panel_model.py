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
    ScoreRequest,
    ScoreResult,
    ScoringCancelled,
)
from vm_editor import scene_ops, scoring
from vm_editor.cue_files import move_cues
from vm_editor.engine_client import ServiceEngine
from vm_editor.errors import EditorInputError
from vm_editor.program import Program, timeline_program
from vm_editor.scenes import Scene, SceneList, extract_scenes
from vm_editor.timeline_io import read_timeline, write_timeline_atomic
from vm_editor.writeback import add_score_track

Listener = Callable[[str], None]


@dataclass
class CueSettings:
    """What the editor sets per cue; locked cues are skipped by "score all"."""

    prompt: str = ""
    preset: str = "tiny"
    seed: int = 0
    intensity: float = 3.0
    locked: bool = False


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
    thumbnail: bytes = b""  # PNG of the scene's middle frame

    @property
    def cue(self) -> CueResult | None:
        return self.takes[self.current_take] if self.takes else None


@dataclass(frozen=True)
class PanelOptions:
    """Settings of the whole score (the per-cue ones are in `CueSettings`)."""

    hits: bool = True  # cuts and markers get forced accents; False leaves them to the model
    stems: bool = False  # also one WAV per stream (drums, bass, harmony, melody) beside each cue


@dataclass
class PanelJob:
    """One score request on its way through the engine. `inbox` receives, from the worker
    thread, `ProgressEvent`s and then one outcome: a `ScoreResult`, `ScoringCancelled` or the
    exception that stopped it."""

    id: int
    positions: list[int]
    request: ScoreRequest
    cancel: threading.Event = field(default_factory=threading.Event)
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    progress: float = 0.0


def _tagged(call: Callable[[], Preview], generation: int) -> dict:
    return {**dataclasses.asdict(call()), "generation": generation}


def timecode(t: otio.opentime.RationalTime, rate: float) -> str:
    drop = abs(rate - 29.97) < 0.01 or abs(rate - 59.94) < 0.01
    try:
        return otio.opentime.to_timecode(t.rescaled_to(rate), rate, drop_frame=drop)
    except Exception:  # rates with no timecode standard (e.g. 23.5)
        return f"{t.to_seconds():.3f}s"


class PanelModel:
    def __init__(self, engine: Engine | None = None, options: PanelOptions | None = None):
        self.engine = engine
        self.options = options or PanelOptions()
        self.timeline: otio.schema.Timeline | None = None
        self.timeline_path: Path | None = None
        self.scene_list: SceneList | None = None
        self.rows: list[SceneRow] = []
        self.selection: set[int] = set()
        self.jobs: dict[int, PanelJob] = {}  # jobs not finished yet, by id
        self._job_ids = itertools.count(1)
        self._engine_turn = threading.Lock()  # one score at a time: the generator is not reentrant
        self.error: str | None = None
        self.engine_status: EngineInfo | None = None
        self.generation = 0  # bumped on every open, so late answers for an old timeline are dropped
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

    # -- timeline ------------------------------------------------------------------------------
    def open(self, path: Path, *, track: int | None = None, rate: float | None = None) -> None:
        timeline = read_timeline(path, rate=rate)
        scene_list = extract_scenes(timeline, track=track, timeline_path=Path(path))
        self.timeline, self.timeline_path, self.scene_list = timeline, Path(path), scene_list
        self.generation += 1
        self.rows = [SceneRow(s, CueSettings(seed=s.index)) for s in scene_list.scenes]
        self.selection = set()
        self.cancel_all()  # a job for the previous timeline stops; its answers are dropped
        self.jobs = {}
        self.error = None
        self._changed("scenes")

    @property
    def rate(self) -> float:
        return self.scene_list.rate if self.scene_list else 24.0

    def row_label(self, position: int) -> dict:
        row = self.rows[position]
        record = row.scene.record_range
        return {
            "name": row.scene.name,
            "in": timecode(record.start_time, self.rate),
            "out": timecode(record.end_time_exclusive(), self.rate),
            "duration_s": record.duration.to_seconds(),
            "markers": len(row.scene.markers),
            "state": row.state,
            "takes": len(row.takes),
            "offline": row.scene.offline,
        }

    def select(self, positions: set[int]) -> None:
        self.selection = {p for p in positions if 0 <= p < len(self.rows)}
        self._changed("selection")

    def _current_list(self) -> SceneList:
        return dataclasses.replace(self.scene_list, scenes=tuple(r.scene for r in self.rows))

    def _take_scenes(self, scene_list: SceneList, settings: list[CueSettings]) -> None:
        self.rows = [SceneRow(scene, s) for scene, s in zip(scene_list.scenes, settings, strict=True)]
        self.selection = set()
        self._changed("scenes")

    def merge(self, positions: list[int]) -> None:
        """Adjacent scenes into one cue (scene_ops.merge_scenes: inner cuts become hit points)."""
        positions = sorted(positions)
        if len(positions) < 2 or positions != list(range(positions[0], positions[-1] + 1)):
            raise EditorInputError("select two or more adjacent scenes to merge")
        first, last = positions[0], positions[-1]
        merged = scene_ops.merge_scenes(self._current_list(), first, last)
        settings = [r.settings for r in self.rows[:first]] + [self.rows[first].settings]
        settings += [r.settings for r in self.rows[last + 1 :]]
        self._take_scenes(merged, settings)

    def split(self, position: int, at_s: float) -> None:
        """One scene into two, `at_s` seconds after its start."""
        start = self.rows[position].scene.record_range.start_time
        at = start + otio.opentime.RationalTime(round(at_s * self.rate), self.rate)
        split = scene_ops.split_scene(self._current_list(), position, at)
        settings = [r.settings for r in self.rows]
        settings[position : position + 1] = [settings[position], dataclasses.replace(settings[position])]
        self._take_scenes(split, settings)

    def program(self) -> Program | None:
        """The open timeline's program on the scored track (shots, edit points, markers), once per open."""
        if self.timeline is None or self.scene_list is None:
            return None
        cached = getattr(self, "_program", None)
        if cached is None or cached[0] != self.generation:
            track = self.scene_list.track_index or None  # 0: a cue plan over the whole program
            program = timeline_program(self.timeline, track=track, timeline_path=self.timeline_path)
            self._program = cached = (self.generation, program)
        return cached[1]

    def move_edge(self, position: int, edge: str, at_frame: int) -> None:
        """Move cue `position`'s "start" or "end" to record frame `at_frame` (the cut view snaps it
        to an edit point); a touching neighbour's edge moves with it (scene_ops.move_edge). The cues
        whose span changed lose their takes; the others, and the selection, are kept."""
        program = self.program()
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
        for position, row in enumerate(self.rows):
            source = row.scene.source
            if source is not None and source.exists:
                mr = source.media_range
                start, end = mr.start_time.to_seconds(), mr.end_time_exclusive().to_seconds()
                ask = functools.partial(self.engine.preview, str(source.path), start, end)
                calls.append((position, functools.partial(_tagged, ask, self.generation)))
        return calls

    def apply_preview(self, position: int, doc: dict) -> None:
        if doc.get("generation", self.generation) != self.generation:
            return  # an answer about a timeline that is no longer open
        if 0 <= position < len(self.rows):
            self.rows[position].rhythm = list(doc.get("rhythm", []))
            self.rows[position].thumbnail = base64.b64decode(doc.get("thumbnail_png_base64", ""))
            self._changed(f"cue:{position}")

    # -- engine --------------------------------------------------------------------------------
    def set_options(self, **changes) -> None:
        """Score-wide settings (`hits`, `stems`) for the next jobs."""
        self.options = dataclasses.replace(self.options, **changes)
        self._changed("options")

    def cue_folder(self) -> Path:
        """Where the panel's cues end up: `<timeline stem>_cues` beside the timeline."""
        stem = self.timeline_path.stem if self.timeline_path else "score"
        parent = self.timeline_path.resolve().parent if self.timeline_path else Path.cwd()
        return parent / f"{stem.replace('.', '_')}_cues"

    def _engine_writes_elsewhere(self) -> bool:
        """The service writes only inside its own cue root; the panel then moves the cues."""
        return isinstance(self.engine, ServiceEngine)

    def _request(self, positions: list[int]) -> ScoreRequest:
        """Scoring's requests (continuity, handles) with each row's seed, prompt, intensity, take."""
        every = scoring.scene_requests([r.scene for r in self.rows])
        scenes = []
        for p in positions:
            row = self.rows[p]
            scenes.append(
                dataclasses.replace(
                    every[p],
                    seed=row.settings.seed,
                    prompt=row.settings.prompt or None,
                    guidance=row.settings.intensity,
                    take=len(row.takes) + 1,
                )
            )
        finished = {r.scene.index: r.cue for r in self.rows if r.cue is not None}
        folder = self.cue_folder()
        return ScoreRequest(
            scenes=scoring.continue_from_finished(scenes, finished),
            cue_dir=folder.name if self._engine_writes_elsewhere() else str(folder),
            preset=self.rows[positions[0]].settings.preset,
            score_name=self.timeline_path.stem if self.timeline_path else "score",
            hits=self.options.hits,
            stems=self.options.stems,
        )

    def submit(self, positions: list[int]) -> PanelJob | None:
        """A job for the unlocked rows among `positions`; the view then runs `run(job)` off the
        GUI thread. None when there is nothing to do (the engine is never asked)."""
        positions = [p for p in positions if not self.rows[p].settings.locked]
        if not positions:
            return None
        if self.engine is None:
            raise EditorInputError("no engine: start the panel with one (`vm-editor panel`)")
        job = PanelJob(next(self._job_ids), positions, self._request(positions))
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
            try:
                outcome = self.engine.score(job.request, progress=job.inbox.put, cancel=job.cancel)
            except Exception as exc:  # ScoringCancelled, EngineError, a bug: shown on the rows/banner
                outcome = exc
            job.inbox.put(outcome)

    def score_all(self) -> PanelJob | None:
        return self.submit(list(range(len(self.rows))))

    def regenerate_selected(self) -> PanelJob | None:
        for p in self.selection:
            self.rows[p].settings.seed = scoring.next_take_seed(self.rows[p].settings.seed)
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
            (cue,) = move_cues([cue], self.cue_folder())
        row.takes.append(cue)
        row.current_take = len(row.takes) - 1
        row.state, row.progress = "done", 1.0
        self._changed(f"cue:{position}")

    def _on_outcome(self, job: PanelJob, outcome: object) -> None:
        self.jobs.pop(job.id, None)
        if isinstance(outcome, ScoreResult):
            cues, state = outcome.cues, "done"
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
        self._changed("jobs")

    def overall_progress(self) -> float:
        """Mean progress of the jobs still running; 1.0 once everything asked for is done."""
        if self.jobs:
            return sum(j.progress for j in self.jobs.values()) / len(self.jobs)
        return 1.0 if any(r.takes for r in self.rows) else 0.0

    def use_take(self, position: int, take: int) -> None:
        row = self.rows[position]
        if not 0 <= take < len(row.takes):
            raise EditorInputError(f"scene {row.scene.name!r} has no take {take + 1}")
        row.current_take = take
        self._changed(f"cue:{position}")

    # -- export --------------------------------------------------------------------------------
    def export(self, path: Path, *, force: bool = False) -> Path:
        if self.timeline is None:
            raise EditorInputError("open a timeline first")
        scenes = [r.scene for r in self.rows if r.cue is not None]
        cues = [r.cue for r in self.rows if r.cue is not None]
        if not cues:
            raise EditorInputError("nothing to export yet: score at least one scene")
        scored = add_score_track(self.timeline, scenes, cues)
        return write_timeline_atomic(scored, Path(path), input_path=self.timeline_path, force=force)
