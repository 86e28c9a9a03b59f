"""Conform: scoring a recut keeps every cue whose pictures did not change.

Why: a cut changes many times after its first temp score, and the editor has chosen takes and
prompts along the way. When the timeline being scored already carries a score (its own, or the
scored file about to be replaced), each new cue is matched to an old one by what it is made of:
the cue's `source_hash` (its program relative to its start: media, source times, durations, hit
points, as `engine.api.SceneRequest.source_hash` says). A match whose WAV is still on disk, made
with the same preset, hits and stems, is kept — its file, take, seed, prompt and takes — wherever
it now sits in the program. A cue whose old one was only trimmed (`vm_editor.trim_fit`: the same
shots, a few frames shorter or longer) is re-fit: the old take's notes re-timed onto the moved cuts
(`engine.api.RefitRequest`, at most a 4 % tempo change), no new music. Every other cue is scored,
continuing from a kept or re-fit neighbour's tokens.

`conform OLD NEW` plans NEW's cues from OLD's (`follow_old_cues`): each old cue's shots found again
in the new program by their media and source times, the pictures no old cue had getting new cues.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import Continuation, CueProgram, CueResult, RefitRequest
from vm_editor import trim_fit
from vm_editor.media_links import url_to_path
from vm_editor.program import Program
from vm_editor.scenes import Scene, to_engine_scene
from vm_editor.score_track import ScoredCue, cue_from_metadata
from vm_editor.time_mapping import seconds
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
    # new cue index -> (the trimmed old cue's take, anchors (old s, new s)): its notes re-timed
    refit: dict[int, tuple[CueResult, trim_fit.Anchors]] = dataclasses.field(default_factory=dict)

    def regenerating(self, index: int) -> ConformPlan:
        """The plan with re-fit cue `index` regenerated instead (its re-fit could not be made)."""
        refit = {i: r for i, r in self.refit.items() if i != index}
        return dataclasses.replace(self, refit=refit, regenerated=tuple(sorted({*self.regenerated, index})))

    def report(self, old_index: Mapping[int, int]) -> list[str]:
        """The lines `score` prints: one summary, then one per kept or re-fit cue."""
        lines = [
            f"conform: {len(self.kept)} kept, {len(self.refit)} re-fit, {len(self.regenerated)} "
            f"regenerated, {len(self.new)} new, {len(self.removed)} removed"
        ]
        for index, cue in sorted(self.kept.items()):
            prompt = f", prompt {cue.prompt!r}" if cue.prompt else ""
            lines.append(
                f"conform: cue {index} kept (was cue {old_index[index]}: take {cue.take}, "
                f"seed {cue.seed}{prompt}, {Path(cue.wav_path).name})"
            )
        for index, (cue, anchors) in sorted(self.refit.items()):
            prompt = f", prompt {cue.prompt!r}" if cue.prompt else ""
            lines.append(
                f"conform: cue {index} re-fit (was cue {old_index[index]}: take {cue.take}, seed "
                f"{cue.seed}{prompt}; its notes re-timed by at most {trim_fit.tempo_change(anchors):.1%} "
                "onto the moved cuts)"
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
    old_programs: Mapping[int, CueProgram] | None = None,
) -> tuple[ConformPlan, dict[int, int]]:
    """Match the new cue plan to the old cues; also new index -> old index for the kept and re-fit
    ones. `old_programs` (old cue index -> its pictures) where the old timeline is at hand; else
    each take's recorded `program` tells how a recut moved its cuts."""
    by_hash: dict[str, list[ScoredCue]] = {}
    for cue in old:
        meta = cue.takes[-1]
        if _reusable(meta, preset=preset, hits=hits, stems=stems):
            by_hash.setdefault(cue_from_metadata(meta).source_hash, []).append(cue)
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
    refit: dict[int, tuple[CueResult, trim_fit.Anchors]] = {}
    for scene in scenes:
        if scene.index in kept:
            continue
        found = _trimmed_from(
            scene, [c for c in old if c.index not in used], old_programs, preset, hits, stems
        )
        if found is not None:
            cue, anchors = found
            used.add(cue.index)
            refit[scene.index] = (
                dataclasses.replace(cue_from_metadata(cue.takes[-1]), index=scene.index),
                anchors,
            )
            history[scene.index] = list(cue.takes)  # the take before the re-fit stays a take
            moved[(cue.record_start_frame, cue.record_end_frame)] = scene.record_range
            old_index[scene.index] = cue.index
    changed = [c for c in old if c.index not in used]
    regenerated, new = [], []
    for scene in scenes:
        if scene.index in kept or scene.index in refit:
            continue
        lo, hi = _span(scene)
        if any(c.record_start_frame < hi and lo < c.record_end_frame for c in changed):
            regenerated.append(scene.index)
        else:
            new.append(scene.index)
    fresh = [_span(s) for s in scenes if s.index not in kept and s.index not in refit]
    removed = tuple(
        c.index
        for c in changed
        if not any(c.record_start_frame < hi and lo < c.record_end_frame for lo, hi in fresh)
    )
    plan = ConformPlan(kept, history, moved, tuple(regenerated), tuple(new), removed, refit)
    return plan, old_index


def _trimmed_from(
    scene: Scene,
    candidates: Sequence[ScoredCue],
    old_programs: Mapping[int, CueProgram] | None,
    preset: str,
    hits: bool,
    stems: bool,
) -> tuple[ScoredCue, trim_fit.Anchors] | None:
    """The old cue that `scene` is a trim of, within a re-fit's tempo change, with its anchors."""
    new = to_engine_scene(scene).program
    if new is None:
        return None
    lo, hi = _span(scene)
    for cue in sorted(candidates, key=lambda c: abs(c.record_start_frame - lo)):
        meta = cue.takes[-1]
        if not (cue.record_start_frame < hi and lo < cue.record_end_frame):
            continue
        if not _reusable(meta, preset=preset, hits=hits, stems=stems) or not _tokens_on_disk(meta):
            continue
        program = (old_programs or {}).get(cue.index) or cue_from_metadata(meta).program
        anchors = trim_fit.trim_anchors(program, new) if program is not None else None
        if trim_fit.fits(anchors):
            return cue, anchors
    return None


def _tokens_on_disk(meta: dict) -> bool:
    tokens = cue_from_metadata(meta).tokens_path
    return bool(tokens) and Path(tokens).is_file()


def refit_request(
    plan: ConformPlan,
    scenes: Sequence[Scene],
    index: int,
    finished: Mapping[int, CueResult],
    *,
    cue_dir: str,
    score_name: str,
) -> RefitRequest:
    """Re-fit cue `index` of `plan`: rendered after the cue that plays before it (touching) when
    that one is `finished` (kept, or re-fit first), as the pipeline renders a cue after the one it
    continues; re-fit cues go in order so each sees its re-fit neighbour."""
    cue, anchors = plan.refit[index]
    scene = next(s for s in scenes if s.index == index)
    request = to_engine_scene(scene)
    start = scene.record_range.start_time
    before = next((s for s in scenes if s.record_range.end_time_exclusive() == start), None)
    cont = None
    if before is not None and before.index in finished and finished[before.index].tokens_path:
        at_s = before.record_range.duration.to_seconds()
        done = finished[before.index]
        cont = Continuation(at_s, tokens_path=done.tokens_path, tempo=done.tempo, key=done.key)
    return RefitRequest(
        cue=cue,
        index=index,
        name=scene.name,
        duration_s=request.duration_s,
        anchors=anchors,
        cue_dir=cue_dir,
        score_name=score_name,
        source_hash=request.source_hash(),
        program=request.program,
        continue_from=cont,
    )


def follow_old_cues(program: Program, old: Sequence[tuple[int, CueProgram]]) -> list[Span]:
    """NEW's cue spans (frames) for `conform OLD NEW`: each old cue over the record span where its
    shots are found again in `program` (by media and source time, in order), then each run of
    pictures no old cue covers as a new cue. An old cue none of whose shots remain has no span."""
    rate = program.rate
    pictures = [s for s in program.segments if not s.is_black and s.path is not None]
    spans: list[Span] = []
    for _, cue in old:
        lo = hi = None
        for shot in cue.segments:
            found = [f for f in (_where(seg, shot, rate) for seg in pictures if shot.path is not None) if f]
            if found:  # where most of the shot is now (a source used twice: its longer use)
                a, b = max(found, key=lambda f: f[1] - f[0])
                lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
        if lo is not None and hi > lo:
            spans.append((lo, hi))
    spans.sort()
    cleaned: list[Span] = []
    for lo, hi in spans:  # two old cues never claim the same frames
        if cleaned and lo < cleaned[-1][1]:
            lo = cleaned[-1][1]
        if hi > lo:
            cleaned.append((lo, hi))
    runs: list[Span] = []
    for seg in pictures:  # pictures no old cue had: new cues, one over each run of them
        pieces = [(int(seg.record.start_time.value), int(seg.record.end_time_exclusive().value))]
        for lo, hi in cleaned:
            pieces = [p for a, b in pieces for p in ((a, min(b, lo)), (max(a, hi), b)) if p[1] > p[0]]
        for a, b in pieces:
            if runs and runs[-1][1] == a:
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
    return sorted(cleaned + runs)


def _where(seg, shot, rate: float) -> Span | None:
    """The record frames of `seg` (new program) showing `shot`'s source (an old cue's segment)."""
    if str(seg.path) != shot.path or abs(float(seg.speed) - shot.speed) > 1e-6:
        return None
    start_s = float(seconds(seg.record.start_time))
    if abs(shot.speed) < 1e-9:
        same = abs(float(seg.source_in) - shot.source_start_s) < 1e-3
        return (
            (int(seg.record.start_time.value), int(seg.record.end_time_exclusive().value)) if same else None
        )
    # the record seconds at which seg shows the shot's first and last source times
    t0 = start_s + (shot.source_start_s - float(seg.source_in)) / float(seg.speed)
    t1 = start_s + (shot.source_end_s - float(seg.source_in)) / float(seg.speed)
    lo = max(int(seg.record.start_time.value), round(min(t0, t1) * rate))
    hi = min(int(seg.record.end_time_exclusive().value), round(max(t0, t1) * rate))
    return (lo, hi) if hi > lo else None


def keep_history(scored: otio.schema.Timeline, plan: ConformPlan) -> None:
    """Give each kept cue's clip its earlier takes' history again (the panel lists them)."""
    track = score_track(scored)
    for clip in track.find_clips(shallow_search=True) if track is not None else ():
        meta = clip.metadata.get(METADATA_KEY)
        if meta is not None and plan.history.get(int(meta["cue_index"])):
            meta["previous_takes"] = plan.history[int(meta["cue_index"])]


def _reusable(meta: dict, *, preset: str, hits: bool, stems: bool) -> bool:
    """A take whose WAV is there, made as this score makes its cues (preset, hits, stems)."""
    wav = url_to_path(str(meta.get("wav_url", "")))
    was = cue_from_metadata(meta)
    if wav is None or not wav.is_file() or not was.source_hash:
        return False
    return (was.preset, was.hits, bool(was.stems)) == (preset, hits, stems)


def _span(scene: Scene) -> Span:
    return int(scene.record_range.start_time.value), int(scene.record_range.end_time_exclusive().value)
