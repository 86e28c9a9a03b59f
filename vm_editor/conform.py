"""Conform: scoring a recut keeps every cue whose pictures did not change.

Why: a cut changes many times after its first temp score, and the editor has chosen takes and
prompts along the way. When the timeline being scored already carries a score (its own, or the
scored file about to be replaced), each new cue is matched to an old one by what it is made of:
the cue's `source_hash` (its program relative to its start: media, source times, durations, hit
points, as `engine.api.SceneRequest.source_hash` says). A match whose WAV is still on disk, made
with the same preset, hits and stems, is kept — its file, take, seed, prompt and takes — wherever
it now sits in the program; every other cue is scored, continuing from a kept neighbour's tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult
from vm_editor.media_links import url_to_path
from vm_editor.scenes import Scene, to_engine_scene
from vm_editor.score_track import ScoredCue, cue_from_metadata
from vm_editor.writeback import METADATA_KEY, score_track

TimeRange = otio.opentime.TimeRange
Span = tuple[int, int]


@dataclasses.dataclass(frozen=True)
class ConformPlan:
    """Which new cues keep an old take, and what the report says."""

    kept: dict[int, CueResult]  # new cue index -> the old cue's current take, renumbered
    history: dict[int, list]  # new cue index -> the kept cue's earlier takes (`previous_takes`)
    moved: dict[Span, TimeRange]  # old record span (frames) -> the kept cue's new record range
    regenerated: tuple[int, ...]  # new cues over the span of an old cue that changed
    new: tuple[int, ...]  # new cues where no old cue was
    removed: tuple[int, ...]  # old cues (their numbers) that no new cue keeps or replaces

    def report(self, old_index: Mapping[int, int]) -> list[str]:
        """The lines `score` prints: one summary, then one per kept cue."""
        lines = [
            f"conform: {len(self.kept)} kept, {len(self.regenerated)} regenerated, "
            f"{len(self.new)} new, {len(self.removed)} removed"
        ]
        for index, cue in sorted(self.kept.items()):
            prompt = f", prompt {cue.prompt!r}" if cue.prompt else ""
            lines.append(
                f"conform: cue {index} kept (was cue {old_index[index]}: take {cue.take}, "
                f"seed {cue.seed}{prompt}, {Path(cue.wav_path).name})"
            )
        for label, indices in (("regenerated", self.regenerated), ("new", self.new)):
            lines += [f"conform: cue {i} {label}" for i in indices]
        lines += [f"conform: old cue {i} removed (its takes stay on the takes tracks)" for i in self.removed]
        return lines


def match(
    scenes: Sequence[Scene],
    old: Sequence[ScoredCue],
    *,
    preset: str,
    hits: bool,
    stems: bool,
) -> tuple[ConformPlan, dict[int, int]]:
    """Match the new cue plan to the old cues; also new index -> old index for the kept ones."""
    by_hash: dict[str, list[ScoredCue]] = {}
    for cue in old:
        meta = cue.takes[-1]
        if _reusable(meta, preset=preset, hits=hits, stems=stems):
            by_hash.setdefault(str(meta.get("source_hash")), []).append(cue)
    kept: dict[int, CueResult] = {}
    history: dict[int, list] = {}
    moved: dict[Span, TimeRange] = {}
    old_index: dict[int, int] = {}
    used: set[int] = set()
    for scene in scenes:
        candidates = [c for c in by_hash.get(to_engine_scene(scene).source_hash(), []) if c.index not in used]
        if not candidates:
            continue
        start = int(scene.record_range.start_time.value)
        cue = min(candidates, key=lambda c: abs(c.record_start_frame - start))  # the nearest one
        used.add(cue.index)
        meta = cue.takes[-1]
        kept[scene.index] = dataclasses.replace(cue_from_metadata(meta), index=scene.index)
        history[scene.index] = list(cue.takes[:-1])
        moved[(cue.record_start_frame, cue.record_end_frame)] = scene.record_range
        old_index[scene.index] = cue.index
    changed = [c for c in old if c.index not in used]
    regenerated, new = [], []
    for scene in scenes:
        if scene.index in kept:
            continue
        lo, hi = _span(scene)
        if any(c.record_start_frame < hi and lo < c.record_end_frame for c in changed):
            regenerated.append(scene.index)
        else:
            new.append(scene.index)
    fresh = [_span(s) for s in scenes if s.index not in kept]
    removed = tuple(
        c.index
        for c in changed
        if not any(c.record_start_frame < hi and lo < c.record_end_frame for lo, hi in fresh)
    )
    plan = ConformPlan(kept, history, moved, tuple(regenerated), tuple(new), removed)
    return plan, old_index


def keep_history(scored: otio.schema.Timeline, plan: ConformPlan) -> None:
    """Give each kept cue's clip its earlier takes' history again (the panel lists them)."""
    track = score_track(scored)
    for clip in track.find_clips(shallow_search=True) if track is not None else ():
        meta = clip.metadata.get(METADATA_KEY)
        if meta is not None and plan.history.get(int(meta["cue_index"])):
            meta["previous_takes"] = plan.history[int(meta["cue_index"])]


def _reusable(meta: dict, *, preset: str, hits: bool, stems: bool) -> bool:
    wav = url_to_path(str(meta.get("wav_url", "")))
    if wav is None or not wav.is_file() or not meta.get("source_hash"):
        return False
    same_hits = str(meta.get("hits", True)).strip().lower() not in ("false", "0", "no")
    return (
        str(meta.get("preset") or "tiny") == preset and same_hits == hits and bool(meta.get("stems")) == stems
    )


def _span(scene: Scene) -> Span:
    return int(scene.record_range.start_time.value), int(scene.record_range.end_time_exclusive().value)
