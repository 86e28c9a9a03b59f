"""The panel's view-model: what the Qt widgets show and the actions they call, without Qt.

Widgets in `ui/` only bind to this object (napari's split), so the behaviour is tested headless.
Engine work is non-blocking: `submit_*` returns at once and `poll()` (a Qt timer calls it) moves
jobs forward, so the panel stays responsive while music is generated.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult, EngineInfo, Preview, ScoreRequest, cue_from_dict, progress_from_dict
from vm_editor import scene_ops
from vm_editor.errors import EditorInputError
from vm_editor.scenes import Scene, SceneList, extract_scenes, to_engine_scene
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


def _scene_in_progress(job: dict) -> int | None:
    """The 1-based position in the job of the cue being worked on (from its progress event)."""
    event = job.get("event")
    return None if not event else progress_from_dict(event).scene_position


def _tagged(call: Callable[[], Preview], generation: int) -> dict:
    return {**dataclasses.asdict(call()), "generation": generation}


def timecode(t: otio.opentime.RationalTime, rate: float) -> str:
    drop = abs(rate - 29.97) < 0.01 or abs(rate - 59.94) < 0.01
    try:
        return otio.opentime.to_timecode(t.rescaled_to(rate), rate, drop_frame=drop)
    except Exception:  # rates with no timecode standard (e.g. 23.5)
        return f"{t.to_seconds():.3f}s"


class PanelModel:
    def __init__(self, engine=None):
        self.engine = engine
        self.timeline: otio.schema.Timeline | None = None
        self.timeline_path: Path | None = None
        self.scene_list: SceneList | None = None
        self.rows: list[SceneRow] = []
        self.selection: set[int] = set()
        self.jobs: dict[str, list[int]] = {}  # job id -> row positions it covers
        self.job_progress: dict[str, float] = {}
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
        self.jobs = {}
        self.job_progress = {}
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
    def _request(self, positions: list[int]) -> ScoreRequest:
        scenes = []
        for p in positions:
            row = self.rows[p]
            scene = to_engine_scene(row.scene, seed=row.settings.seed, prompt=row.settings.prompt or None)
            scenes.append(
                dataclasses.replace(scene, take=len(row.takes) + 1, guidance=row.settings.intensity)
            )
        stem = self.timeline_path.stem if self.timeline_path else "score"
        return ScoreRequest(
            scenes=tuple(scenes),
            cue_dir=f"{stem}_cues",
            preset=self.rows[positions[0]].settings.preset,
            score_name=stem,
        )

    def submit(self, positions: list[int]) -> str | None:
        positions = [p for p in positions if not self.rows[p].settings.locked]
        if not positions:
            return None
        job = self.engine.submit(self._request(positions))
        self.jobs[job["id"]] = positions
        for p in positions:
            self.rows[p].state, self.rows[p].progress, self.rows[p].error = "queued", 0.0, None
        self._changed("jobs")
        self._absorb(job)
        return job["id"]

    def score_all(self) -> str | None:
        return self.submit(list(range(len(self.rows))))

    def regenerate_selected(self) -> str | None:
        for p in self.selection:
            self.rows[p].settings.seed = (self.rows[p].settings.seed + 1) % (2**31 - 1)
        return self.submit(sorted(self.selection))

    def cancel_all(self) -> None:
        for job_id in list(self.jobs):
            self._absorb(self.engine.cancel(job_id))

    def poll(self) -> None:
        for job_id in list(self.jobs):
            self._absorb(self.engine.status(job_id))

    def _absorb(self, job: dict) -> None:
        positions = self.jobs.get(job["id"], [])
        by_index = {c["index"]: cue_from_dict(c) for c in job.get("cues", [])}
        current = _scene_in_progress(job)  # 1-based position within the job
        count = max(len(positions), 1)
        for k, p in enumerate(positions, start=1):
            row = self.rows[p]
            cue = by_index.get(row.scene.index)
            if cue is not None and all(t.wav_path != cue.wav_path for t in row.takes):
                row.takes.append(cue)
                row.current_take = len(row.takes) - 1
                row.state, row.progress = "done", 1.0
                self._changed(f"cue:{p}")
            elif cue is None and job["status"] in ("queued", "running"):
                running = job["status"] == "running" and current == k
                row.state = "running" if running else "queued"
                row.progress = min(max(job["progress"] * count - (k - 1), 0.0), 1.0) if running else 0.0
            elif cue is None:
                row.state = job["status"]
        self.job_progress[job["id"]] = job["progress"]
        if job["status"] in ("done", "failed", "cancelled"):
            self.jobs.pop(job["id"], None)
            self.job_progress.pop(job["id"], None)
            if job["status"] == "failed":
                self.set_error(f"scoring failed: {job.get('error')}")
        self._changed("progress")

    def overall_progress(self) -> float:
        """Mean progress of the jobs still running; 1.0 once everything asked for is done."""
        if self.job_progress:
            return sum(self.job_progress.values()) / len(self.job_progress)
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
