"""Scoring a timeline, in one place: plan the cues, build the request, the seed and take rules.

The CLI, the panel and the demo call these functions; the engine is anything that implements
`engine.api.Engine` (in-process or the service client).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import (
    CUE_ENERGIES,
    CUE_MOODS,
    DEFAULT_HANDLE_S,
    SEED_LIMIT,
    Continuation,
    CueProgram,
    CueResult,
    Engine,
    SceneRequest,
    ScoreRequest,
    derive_cue_seed,
)
from vm_editor import cue_plan, request_limits, scene_ops, worlds
from vm_editor.conform import follow_old_cues
from vm_editor.errors import EditorInputError, OfflineMediaError
from vm_editor.media_links import offline_report, url_to_path
from vm_editor.program import timeline_program
from vm_editor.scenes import Scene, SceneList, choose_video_track, offline_scenes, to_engine_scene
from vm_editor.score_track import ScoredCue, cue_from_metadata

__all__ = [
    "SEED_LIMIT",
    "cue_seed",
    "check_offline",
    "plan_cues",
    "build_request",
    "regenerate_request",
    "scored_cues",
]


def plan_cues(
    timeline: otio.schema.Timeline,
    *,
    mode: str = "auto",
    timeline_path: Path | None = None,
    track: int | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
    engine: Engine | None = None,
    preset: str = "tiny",
    merge: Sequence[tuple[int, int] | str] = (),
    split_at_markers: bool = False,
    record_in: str | None = None,
    record_out: str | None = None,
    merge_all: bool = False,
    check_size: Callable[[int, float], None] | None = None,
) -> SceneList:
    """The cues of a timeline's program (`mode` auto|per-clip|one), merged (`merge`: index pairs
    or "A-B" texts) and split as asked, limited to `record_in`..`record_out` (timecode, frames or
    "10.5s"), all one cue with `merge_all`: `vm-editor scenes/score`'s plan, and the panel's.

    `check_size(cues_at_least, total_s)` sees the plan's size before the engine is asked anything
    (a score refuses a plan too large for one request there, not after minutes of work)."""
    program = timeline_program(timeline, track=track, timeline_path=timeline_path, relink=relink)
    name = choose_video_track(timeline, track, timeline_path).name or "V1"
    pairs = [parse_merge(m) if isinstance(m, str) else m for m in merge]
    window = _record_window(program, timeline, name, record_in, record_out)
    if check_size is not None:  # the engine's splits (worlds, meaning) only add cues
        spans = cue_plan.plan_spans(program, mode)
        if split_at_markers:
            spans = cue_plan.split_spans_at_markers(spans, program)
        spans = _within(spans, window)
        total_s = sum(hi - lo for lo, hi in spans) / program.rate
        check_size(request_limits.least_cue_count(len(spans), pairs, merge_all), total_s)
    embed = None
    if engine is not None:  # the worlds split the auto plan, and hold each cue's style
        starts = worlds.program_worlds(program, lambda shots: engine.shot_pictures(tuple(shots)))
        program = dataclasses.replace(
            program, world_changes=tuple(otio.opentime.RationalTime(f, program.rate) for f in starts)
        )
    if engine is not None and mode == "auto":
        embed = lambda shots: engine.shot_embeddings(tuple(shots), preset)  # noqa: E731
    starts = [int(t.value) for t in program.world_changes or ()] if mode == "auto" else []
    spans = cue_plan.plan_spans(program, mode, embed=embed, worlds=starts)
    if split_at_markers:
        spans = cue_plan.split_spans_at_markers(spans, program)
    for first, last in sorted(pairs, reverse=True):
        spans = cue_plan.merge_spans(spans, first, last)
    if window is not None:  # cues over the program, cut at IN and OUT
        spans = _within(spans, window)
        if not spans:
            raise EditorInputError("the record range holds no scene; widen it or check the timecodes")
    if merge_all and spans:  # one cue over every shot and the black between them
        spans = [(spans[0][0], spans[-1][1])]
    planned = cue_plan.cue_scenes(program, spans, name)
    return dataclasses.replace(planned, start_timecode=timeline.global_start_time)


def _record_window(
    program, timeline: otio.schema.Timeline, name: str, record_in: str | None, record_out: str | None
) -> tuple[int, int] | None:
    """`--in`/`--out` as program frames [lo, hi), or None when neither is given."""
    if record_in is None and record_out is None:
        return None
    whole = dataclasses.replace(
        cue_plan.cue_scenes(program, [], name), start_timecode=timeline.global_start_time
    )
    start = scene_ops.parse_record_time(record_in or "0", whole)
    end = scene_ops.parse_record_time(record_out, whole) if record_out else whole.duration
    lo, hi = round(start.rescaled_to(program.rate).value), round(end.rescaled_to(program.rate).value)
    if not 0 <= lo < hi:
        raise EditorInputError(f"record range {lo:g}-{hi:g} frames is empty; give IN before OUT")
    return lo, hi


def _within(spans: list[cue_plan.Span], window: tuple[int, int] | None) -> list[cue_plan.Span]:
    if window is None:
        return spans
    lo, hi = window
    return [(max(a, lo), min(b, hi)) for a, b in spans if a < hi and b > lo]


def parse_merge(text: str) -> tuple[int, int]:
    """`--merge 2-4`: cues 2..4."""
    try:
        first, last = (int(x) for x in text.split("-", 1))
    except ValueError as exc:
        raise EditorInputError(f"--merge {text!r}: give two cue numbers like 2-4") from exc
    return first, last


def cue_seed(seed: int, cue_index: int) -> int:
    """Cue `cue_index`'s first take's seed for a score asked with `seed` (the CLI's --seed, the
    panel's): `engine.api.derive_cue_seed`, so both front ends give one cut the same music."""
    return derive_cue_seed(seed, cue_index)


def check_offline(scene_list: SceneList, timeline_path: Path, allow_offline: bool) -> str | None:
    """Clips whose media is offline: refused (OfflineMediaError naming them and the fix), or with
    `allow_offline` the warning to show; None when every picture is online. CLI and panel alike."""
    offline = offline_scenes(scene_list)
    if not offline:
        return None
    if allow_offline:
        return (
            f"{len(offline)} clip(s) have offline media and are scored without pictures:\n"
            + offline_report(offline)
        )
    listed = "; ".join(f"clip {name!r} -> {url}" for name, url in offline[:5])
    more = f" (and {len(offline) - 5} more)" if len(offline) > 5 else ""
    raise OfflineMediaError(
        f"{timeline_path}: {len(offline)} clip(s) have offline media: {listed}{more}; relink them in "
        "the editor, pass --relink FOLDER to search for the files, or --allow-offline to score without pictures"
    )


def next_take_seed(previous_seed: int) -> int:
    """A new take's seed when none is given: the previous one plus one."""
    return (int(previous_seed) + 1) % SEED_LIMIT


def next_take(last_take: int, last_seed: int, seed: int | None = None) -> tuple[int, int]:
    """The one regenerate rule (`vm-editor regenerate`, the panel's Regenerate): a cue's next take
    is numbered after its last one, with `seed` when given, else the last take's seed plus one."""
    return int(last_take) + 1, next_take_seed(last_seed) if seed is None else int(seed)


def scene_requests(
    scenes: Sequence[Scene],
    *,
    prompt: str | None = None,
    guidance: float | None = None,
    handle_s: float = DEFAULT_HANDLE_S,
    mood: str | None = None,
    energy: str | None = None,
) -> tuple[SceneRequest, ...]:
    """One request per cue; a cue that starts where the previous ends continues its music, unless
    it starts a new world (`vm_editor.worlds`: it opens fresh in a style of its own pictures and
    crossfades in); a cue no other continues ends into silence (a cadence). `mood` and `energy`:
    every cue's explicit controls (None: the prompt's words decide)."""
    out = []
    touching = cue_plan.touching(scenes)
    followed = [*touching[1:], False]
    for scene, touches, next_touches in zip(scenes, touching, followed, strict=True):
        req = dataclasses.replace(
            to_engine_scene(scene, prompt=prompt),
            guidance=guidance,
            handle_s=handle_s,
            ends=not next_touches,
            mood=mood,
            energy=energy,
        )
        if touches and not _starts_world(scene):
            prev = scenes[scenes.index(scene) - 1]
            req = dataclasses.replace(
                req,
                continue_from=Continuation(prev.record_range.duration.to_seconds(), scene_index=prev.index),
            )
        out.append(req)
    return tuple(out)


def _starts_world(scene: Scene) -> bool:
    program = scene.program
    return program is not None and any(
        t == scene.record_range.start_time for t in program.world_changes or ()
    )


def continue_from_finished(
    requests: Sequence[SceneRequest], finished: dict[int, CueResult]
) -> tuple[SceneRequest, ...]:
    """A cue whose predecessor is not in this request (a regenerated or locked neighbour)
    continues from that cue's finished take (its saved tokens), or starts fresh without one."""
    inside = {r.index for r in requests}
    out = []
    for req in requests:
        cont = req.continue_from
        if cont is not None and cont.scene_index is not None and cont.scene_index not in inside:
            cue = finished.get(cont.scene_index)
            tokens = cue.tokens_path if cue is not None else None
            carried = (
                Continuation(cont.at_s, tokens_path=tokens, tempo=cue.tempo, key=cue.key)
                if tokens and Path(tokens).is_file()
                else None
            )
            req = dataclasses.replace(req, continue_from=carried)
        out.append(req)
    return tuple(out)


def build_request(
    scene_list: SceneList,
    *,
    cue_dir: str,
    preset: str = "tiny",
    seed: int = 0,
    prompt: str | None = None,
    guidance: float | None = None,
    score_name: str = "score",
    hits: bool = True,
    stems: bool = False,
    mood: str | None = None,
    energy: str | None = None,
) -> ScoreRequest:
    check_controls(mood, energy)
    scenes = scene_requests(
        scene_list.scenes, prompt=prompt, guidance=guidance, mood=control(mood), energy=control(energy)
    )
    return ScoreRequest(
        scenes=tuple(dataclasses.replace(s, seed=cue_seed(seed, s.index)) for s in scenes),
        cue_dir=cue_dir,
        preset=preset,
        seed=seed,
        prompt=prompt,
        score_name=score_name,
        hits=hits,
        stems=stems,
    )


MAX_TAKES = 8  # one per style the model knows
AUTO = "auto"  # --mood auto / --energy auto: no explicit control, the prompt's words decide


def check_controls(mood: str | None, energy: str | None) -> None:
    """`--mood` and `--energy` as the engine takes them (engine.api.CUE_MOODS, CUE_ENERGIES)."""
    for option, value, allowed in (("--mood", mood, CUE_MOODS), ("--energy", energy, CUE_ENERGIES)):
        if value is not None and value != AUTO and value not in allowed:
            raise EditorInputError(
                f"{option} {value!r}: choose one of {', '.join(allowed)}, or {AUTO} (the prompt's words decide)"
            )


def control(value: str | None) -> str | None:
    """A control as the request carries it: None for none given or `auto`."""
    return None if value in (None, "", AUTO) else value


def check_takes(takes: int) -> None:
    if not 1 <= int(takes) <= MAX_TAKES:
        raise EditorInputError(f"--takes {takes}: give 1 to {MAX_TAKES} takes per cue")


def take_request(request: ScoreRequest, take: int) -> ScoreRequest:
    """Take `take` of every cue of `request` (counted from the take each scene asks for: 1 in a
    fresh score, the next one in the panel): an alternative the engine opens in another style
    (`engine.generator.cue_grid.choose_grid`), with its own seed (the first take's plus k - 1, as
    a regenerated take's), each cue continuing the same take of the cue before it."""
    if take == 1:
        return request
    scenes = tuple(
        dataclasses.replace(s, take=s.take + take - 1, seed=(int(s.seed or 0) + take - 1) % SEED_LIMIT)
        for s in request.scenes
    )
    return dataclasses.replace(request, scenes=scenes)


@dataclasses.dataclass(frozen=True)
class Regeneration:
    """A new take of one cue: the request, and whether its pictures changed since it was scored."""

    request: ScoreRequest
    take: int
    pictures_changed: bool


def regenerate_request(
    timeline: otio.schema.Timeline,
    cues: dict[int, dict],
    cue: int,
    *,
    cue_dir: str,
    timeline_path: Path | None = None,
    track: int | None = None,
    seed: int | None = None,
    prompt: str | None = None,
    guidance: float | None = None,
    hits: bool | None = None,
    stems: bool | None = None,
    score_name: str = "score",
    mood: str | None = None,
    energy: str | None = None,
) -> Regeneration:
    """Cue `cue` of a scored timeline again, over the same record span of today's program.

    A new seed (the previous take's plus one unless given), take + 1; it continues from the
    previous cue's saved tokens when that cue ends where this one starts, and renders the same
    handle, so the write-back crossfades into the next cue as before. Hits and stems stay as the
    cue was scored unless `hits` / `stems` say otherwise; so do its mood and energy unless `mood`
    / `energy` are given (`auto`: none, the prompt's words decide).
    """
    check_controls(mood, energy)
    if cue not in cues:
        raise EditorInputError(f"no cue {cue}; its cues are {sorted(cues)}")
    meta = cues[cue]
    was = cue_from_metadata(meta)  # the take it follows, as it was made
    program = timeline_program(timeline, track=track, timeline_path=timeline_path)
    scene = cue_plan.cue_scenes(program, [_scored_span(program, meta)]).scenes[0]
    scene = dataclasses.replace(scene, index=cue, name=meta.get("scene_name") or scene.name)
    take, seed = next_take(was.take, was.seed, seed)
    prompt = prompt if prompt is not None else was.prompt
    guidance = guidance if guidance is not None else was.guidance
    request_scene = dataclasses.replace(
        to_engine_scene(scene, seed=seed, prompt=prompt),
        take=take,
        guidance=guidance,
        handle_s=was.handle_s,
        # a cue that opened a new world opens fresh again, in the style its take picks
        continue_from=None if was.starts_world else _continuation(cues, cue),
        ends=_ends_into_silence(cues, cue),
        mood=control(mood if mood is not None else was.mood),
        energy=control(energy if energy is not None else was.energy),
    )
    if request_scene.program is not None and was.world_changes_s is not None:
        request_scene = dataclasses.replace(  # its style holds where it did
            request_scene,
            program=dataclasses.replace(request_scene.program, world_changes_s=was.world_changes_s),
        )
    request = ScoreRequest(
        scenes=(request_scene,),
        cue_dir=cue_dir,
        preset=was.preset,
        seed=seed,
        prompt=prompt,
        score_name=score_name,
        hits=was.hits if hits is None else hits,
        stems=bool(was.stems) if stems is None else stems,
    )
    changed = request_scene.source_hash() != was.source_hash
    return Regeneration(request, take, changed)


def _scored_span(program, meta: dict) -> cue_plan.Span:
    """A scored cue's record span (from its metadata) in frames of today's program."""
    rate = float(meta.get("rate") or program.rate)
    lo = otio.opentime.RationalTime(meta["record_start_frame"], rate).rescaled_to(program.rate)
    hi = otio.opentime.RationalTime(meta["record_end_frame"], rate).rescaled_to(program.rate)
    return round(lo.value), round(hi.value)


def scored_cues(
    timeline: otio.schema.Timeline,
    scored: Sequence[ScoredCue],
    *,
    timeline_path: Path | None = None,
    track: int | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
) -> SceneList:
    """The cues of a scored timeline (`score_track.read_score`) over today's program: the spans
    and numbers they were scored with, not a new plan, so each cue meets its music again."""
    program = timeline_program(timeline, track=track, timeline_path=timeline_path, relink=relink)
    spans = [_scored_span(program, c.takes[-1]) for c in scored]
    planned = cue_plan.cue_scenes(
        program, spans, choose_video_track(timeline, track, timeline_path).name or "V1"
    )
    scenes = tuple(
        dataclasses.replace(scene, index=c.index, name=c.name or scene.name)
        for scene, c in zip(planned.scenes, scored, strict=True)
    )
    return dataclasses.replace(planned, scenes=scenes)


def old_cue_programs(
    timeline: otio.schema.Timeline,
    scored: Sequence[ScoredCue],
    *,
    timeline_path: Path | None = None,
    track: int | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
) -> dict[int, CueProgram]:
    """Old cue index -> the pictures it was scored over (its span of the scored timeline's own
    program): what `conform OLD NEW` looks for in NEW."""
    planned = scored_cues(timeline, scored, timeline_path=timeline_path, track=track, relink=relink)
    out = {}
    for scene in planned.scenes:
        program = to_engine_scene(scene).program
        if program is not None:
            out[scene.index] = program
    return out


def follow_plan(
    timeline: otio.schema.Timeline,
    old_programs: dict[int, CueProgram],
    *,
    timeline_path: Path | None = None,
    track: int | None = None,
    relink: Sequence[str | os.PathLike[str]] = (),
) -> SceneList:
    """NEW's cues for `conform OLD NEW`: the old cues over where their shots are now, new cues
    over pictures no old cue had (`conform.follow_old_cues`), numbered in record order."""
    program = timeline_program(timeline, track=track, timeline_path=timeline_path, relink=relink)
    spans = follow_old_cues(program, sorted(old_programs.items()))
    planned = cue_plan.cue_scenes(
        program, spans, choose_video_track(timeline, track, timeline_path).name or "V1"
    )
    return dataclasses.replace(planned, start_timecode=timeline.global_start_time)


def _continuation(cues: dict[int, dict], cue: int) -> Continuation | None:
    """Continue from cue − 1's saved tokens when it ends where `cue` starts and they exist."""
    previous, this = cues.get(cue - 1), cues[cue]
    if previous is None or int(previous["record_end_frame"]) != int(this["record_start_frame"]):
        return None
    recorded = cue_from_metadata(previous)
    tokens = recorded.tokens_path or ""
    if not tokens or not Path(tokens).is_file():
        wav = url_to_path(previous.get("wav_url", ""))
        tokens = str(wav.with_suffix(".tokens.npy")) if wav is not None else ""
    if not tokens or not Path(tokens).is_file():
        return None
    rate = float(previous.get("rate") or 1.0)
    at_s = (int(previous["record_end_frame"]) - int(previous["record_start_frame"])) / rate
    return Continuation(at_s, tokens_path=str(Path(tokens).resolve()), tempo=recorded.tempo, key=recorded.key)


def _ends_into_silence(cues: dict[int, dict], cue: int) -> bool:
    """Whether no cue starts where `cue` ends (nothing continues its music)."""
    end = int(cues[cue]["record_end_frame"])
    return not any(int(m.get("record_start_frame", -1)) == end for k, m in cues.items() if k != cue)
