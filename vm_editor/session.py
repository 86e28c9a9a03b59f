"""One scoring session under every face: score / conform / regenerate / export.

Why: the CLI, the panel, `watch`, the demo and the host launchers each turned their own option
lists into requests and wrote the result back their own way, so the rules (where cues go, what
`cue_dir` means with the service, a new take's seed, when an output may be replaced) drifted
apart. Here they are once: the operations take `ScoreOptions` (vm_editor/score_options.py, every
option a score takes, each flag defined once) and own paths, cue folders and the write-back.
The faces parse, call and print; this module prints nothing (it says its notes and warnings
through `say`, and engine progress through `progress`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult, Engine, ProgressEvent
from engine.errors import EngineInputError
from vm_editor import conform as conform_rules
from vm_editor import input_guard, outputs, request_limits, scoring
from vm_editor.cue_files import move_cues
from vm_editor.engine_client import ServiceEngine
from vm_editor.errors import EditorInputError, OutputExistsError
from vm_editor.media_links import url_to_path
from vm_editor.outputs import cue_folder_for
from vm_editor.scenes import SceneList
from vm_editor.score_options import ScoreOptions, check_options, check_text
from vm_editor.score_track import (
    ScoredCue,
    add_or_replace_score,
    add_score_with_takes,
    carry_score,
    cue_from_metadata,
    is_our_output,
    read_score,
    scored_output_path,
    without_score,
)
from vm_editor.timeline_io import (
    default_output_path,
    output_format_note,
    read_timeline_report,
    write_timeline_atomic,
)
from vm_editor.writeback import DEFAULT_TRACK_NAME, replace_cue

_DEFAULTS = ScoreOptions()  # export and conform_report without options: the score's defaults
Say = Callable[[str], None]
Progress = Callable[[str | None], Callable[[ProgressEvent], None]]


def _quiet(_line: str) -> None:
    """The default `say`: a caller that shows nothing (tests, the panel's worker)."""


def _no_progress(_header: str | None) -> Callable[[ProgressEvent], None]:
    return lambda _event: None


# -- where cues go: one rule -------------------------------------------------------------------
def engine_writes_elsewhere(engine: Engine | None) -> bool:
    """The service writes only inside its own cue root; the editor side then moves the cues."""
    return isinstance(engine, ServiceEngine)


def writes_in_place(engine: Engine | None, folder: Path) -> bool:
    """Whether the engine writes cues straight into `folder`: in process always; the service when
    `folder` lies inside its cue root (`vm-engine serve --cue-root`, VIDMUSICIAN_CUE_ROOT), the
    only place a request may make it write."""
    if not engine_writes_elsewhere(engine):
        return True
    root = engine.running_cue_root()
    target = Path(folder).resolve()
    return root is not None and (target == root or root in target.parents)


def engine_cue_dir(engine: Engine | None, folder: Path) -> str:
    """`ScoreRequest.cue_dir` for cues meant for `folder`: the folder itself where the engine may
    write there (`writes_in_place`), else a folder of that name inside the service's root (then
    `deliver` moves them into `folder`: a copy when the two lie on other file systems)."""
    return str(Path(folder).resolve()) if writes_in_place(engine, folder) else Path(folder).name


def deliver(engine: Engine | None, cues: Sequence[CueResult], folder: Path | None) -> tuple[CueResult, ...]:
    """Service mode: move finished cues (WAV and tokens) from the engine's root into `folder`,
    unless the engine wrote them there."""
    if not engine_writes_elsewhere(engine) or folder is None:
        return tuple(cues)
    target = Path(folder).resolve()
    if all(Path(cue.wav_path).resolve().parent == target for cue in cues):
        return tuple(cues)
    return move_cues(cues, folder)


def same_file(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


# -- reading and planning ----------------------------------------------------------------------
def read(path: Path, options: ScoreOptions, say: Say = _quiet):
    """Read a timeline as every face does, saying what was assumed (warning:) or chosen (note:)."""
    report = read_timeline_report(path, rate=options.rate, project=options.project)
    for warning in report.warnings:
        say(f"warning: {warning}")
    for note in report.notes:
        say(f"note: {note}")
    return report


def plan(
    timeline: otio.schema.Timeline,
    path: Path,
    options: ScoreOptions,
    engine: Engine | None,
    *,
    check_size: bool = False,
    track: int | None = None,
) -> SceneList:
    """The cue plan score, scenes, rhythm and the panel share (`scoring.plan_cues`); with an
    engine, auto splits at world and meaning changes and a score holds each cue's style per world.
    `check_size`: a score too large for one request is refused before the engine is asked."""
    return scoring.plan_cues(
        timeline,
        mode=options.cues,
        timeline_path=path,
        track=options.track if track is None else track,
        relink=list(options.relink),
        engine=engine,
        preset=options.preset,
        merge=options.merge,
        split_at_markers=options.split_at_markers,
        record_in=options.record_in,
        record_out=options.record_out,
        merge_all=options.merge_all,
        check_size=(lambda n, total_s: request_limits.check_plan_size(path, n, total_s))
        if check_size
        else None,
    )


def _check_media(path: Path, scene_list: SceneList, allow_offline: bool, say: Say) -> None:
    warning = scoring.check_offline(scene_list, path, allow_offline)
    if warning:
        say(f"warning: {warning}")


# -- results -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Written:
    """What an operation wrote: the timeline, its cues, and for a conform its report."""

    path: Path
    cues: tuple[CueResult, ...]
    folder: Path | str  # where the cues (of this run) are
    conform_report: tuple[str, ...] = ()  # `ConformPlan.report` lines, the summary first
    take: int | None = None  # regenerate: the new take's number


def export(
    timeline: otio.schema.Timeline,
    scenes: Sequence,
    cues: Sequence[CueResult],
    path: Path,
    *,
    options: ScoreOptions = _DEFAULTS,
    earlier: dict[int, list[CueResult]] | None = None,
    track_name: str | None = None,
    input_path: Path | None = None,
    force: bool = False,
    replace_input: bool = False,
) -> Path:
    """The scored timeline as score and regenerate write it: each cue's chosen take on the score
    track, its `earlier` takes disabled on the takes track; never over the input unless it is a
    score (`replace_input`), never over a file without `force`."""
    scored = add_score_with_takes(
        timeline,
        scenes,
        cues,
        earlier or {},
        crossfade_s=options.crossfade,
        track_name=track_name or DEFAULT_TRACK_NAME,
    )
    return write_timeline_atomic(
        scored, Path(path), input_path=input_path, force=force, replace_input=replace_input
    )


# -- score ---------------------------------------------------------------------------------------
def score_timeline(
    path: Path,
    options: ScoreOptions,
    engine: Engine,
    *,
    output: Path | None = None,
    force: bool = False,
    fresh: bool = False,
    say: Say = _quiet,
    progress: Progress = _no_progress,
) -> Written:
    """`vm-editor score`: plan the cues, conform to a score the timeline (or the output it
    replaces) carries, score the rest, write `<stem>.scored.<ext>` (or `output`)."""
    path = Path(path)
    check_options(options)
    out_path = output or default_output_path(path)
    report = read(path, options, say)  # the input's own problems first (its name, its bytes)
    timeline = report.timeline
    check_text(options, out_path, explicit_output=output is not None)
    cue_folder = options.cue_dir or cue_folder_for(out_path)
    outputs.check_score_outputs(
        path,
        out_path,
        explicit=output is not None,
        force=force,
        cue_folder=cue_folder,
        option="--cue-dir" if options.cue_dir else "the cue folder",
    )
    ours = is_our_output(timeline)  # a scored timeline may replace itself (--force), no other input
    if same_file(out_path, path) and not ours:
        raise OutputExistsError(
            f"{out_path}: is the input timeline and holds no VidMusician score; choose another -o"
        )
    outputs.check_writer_carries_score(timeline, out_path, path)
    if output is None and (note := output_format_note(path)):
        say(f"note: {note}")
    if out_path.exists() and not same_file(out_path, path):  # replaced (--force given)
        timeline = _carry_previous_score(timeline, out_path, say)
    scene_list = plan(timeline, path, options, engine, check_size=True)
    _check_media(path, scene_list, options.allow_offline, say)
    if not scene_list.scenes:
        raise EditorInputError(f"{path}: the chosen video track has no clips to score")
    old = [] if fresh else read_score(timeline, path)
    return _score_and_write(
        path, options, engine, timeline, scene_list, old, out_path, cue_folder, force=force,
        replace_input=ours, say=say, progress=progress,
    )  # fmt: skip


def _carry_previous_score(timeline, out_path: Path, say: Say):
    """The score and takes of the output about to be replaced, carried into the new one."""
    try:
        previous = read_timeline_report(out_path).timeline
    except EditorInputError:
        return timeline  # not a timeline we can read: nothing of ours to keep
    old = read_score(previous, out_path)
    if not old:
        return timeline
    takes = sum(len(c.takes) for c in old)
    say(
        f"note: {out_path} already holds a score: its {len(old)} cue(s) ({takes} take(s) in all) "
        "are kept as takes in the new one"
    )
    return carry_score(timeline, previous)


def _score_and_write(
    path: Path,
    options: ScoreOptions,
    engine: Engine,
    timeline,
    scene_list: SceneList,
    old: Sequence[ScoredCue],
    out_path: Path,
    cue_folder: Path,
    *,
    force: bool,
    replace_input: bool = False,
    old_programs: dict | None = None,
    say: Say = _quiet,
    progress: Progress = _no_progress,
) -> Written:
    """Conform to `old` (kept cues keep their music, trimmed ones are re-fit), score the rest,
    write OUT: the end of `score` and of `conform`."""
    plan_, old_index = (None, {})
    if old:  # conform: cues whose pictures did not change keep their music
        plan_, old_index = conform_rules.match(
            scene_list.scenes,
            old,
            preset=options.preset,
            hits=options.hits,
            stems=options.stems,
            old_programs=old_programs,
        )
    engine_dir = engine_cue_dir(engine, cue_folder)
    request = scoring.build_request(
        scene_list,
        cue_dir=engine_dir,
        preset=options.preset,
        seed=options.first_seed,
        prompt=options.prompt,
        guidance=options.guidance,
        score_name=path.stem,
        hits=options.hits,
        stems=options.stems,
        mood=options.mood,
        energy=options.energy,
    )
    kept = dict(plan_.kept) if plan_ is not None else {}
    for index in sorted(plan_.refit) if plan_ is not None else ():  # in order: each after its neighbour
        refit = conform_rules.refit_request(
            plan_, scene_list.scenes, index, kept, cue_dir=engine_dir, score_name=path.stem
        )
        try:
            (kept[index],) = deliver(engine, (engine.refit(refit),), cue_folder)
        except (EngineInputError, EditorInputError) as exc:  # its tokens unreadable, say: new music
            say(f"warning: cue {index} cannot be re-fit ({exc}); it is regenerated")
            plan_ = plan_.regenerating(index)
    if kept:  # the cues to score continue from a kept or re-fit neighbour's saved tokens
        todo = tuple(s for s in request.scenes if s.index not in kept)
        request = dataclasses.replace(request, scenes=scoring.continue_from_finished(todo, kept))
    request_limits.check_request_size(path, request)
    if engine_writes_elsewhere(engine):  # the service reads one JSON body of limited size
        request_limits.check_body_size(path, request)
    if not request.scenes:
        say(f"every cue of {path.name} is kept or re-fit: nothing to score")
    takes: list[tuple] = []  # each take's finished cues, take 1 first
    for take in range(1, options.takes + 1) if request.scenes else ():
        # the line is said once the engine has accepted the request
        header = f"scoring {len(request.scenes)} scene(s) of {path.name} with preset '{options.preset}'"
        header += f" ({len(kept)} kept or re-fit)" if kept else ""
        header += f", take {take} of {options.takes}" if options.takes > 1 else ""
        result = engine.score(scoring.take_request(request, take), progress=progress(header))
        for warning in result.warnings if take == 1 else ():
            say(f"warning: {warning}")
        takes.append(deliver(engine, result.cues, cue_folder))
    fresh: tuple = takes[0] if takes else ()
    cues = sorted([*fresh, *kept.values()], key=lambda c: c.index)
    scored = add_or_replace_score(
        timeline, scene_list.scenes, cues, crossfade_s=options.crossfade, moved=plan_.moved if plan_ else None
    )
    for later in takes[1:]:  # each later take plays, the one before it waits on the takes track
        for cue in later:
            scored = replace_cue(scored, cue)
    report: list[str] = []
    if plan_ is not None:
        conform_rules.keep_history(scored, plan_)
        report = plan_.report(old_index)
        for line in report:
            say(line)
    written = write_timeline_atomic(
        scored, out_path, input_path=path, force=force, replace_input=replace_input
    )
    folder = Path((fresh or cues)[0].wav_path).parent if cues else "-"
    return Written(written, tuple(cues), folder, tuple(report))


# -- conform -------------------------------------------------------------------------------------
def conform_report(
    timeline: otio.schema.Timeline, path: Path, options: ScoreOptions = _DEFAULTS
) -> tuple[str, ...]:
    """What `conform` would do to a scored timeline whose cut may have changed since (a host
    re-exports it with its music), asking no engine and writing nothing: each cue's recorded
    pictures found again in today's program (`scoring.follow_plan`) and matched as `conform`
    matches them (`ConformPlan.report`). Empty for a timeline without a score."""
    old = read_score(timeline, path)
    if not old:
        return ()
    programs = {c.index: p for c in old if (p := cue_from_metadata(c.takes[-1]).program)}
    relink = list(options.relink)
    if not programs:  # takes that did not record their pictures: the cut they sit on now
        programs = scoring.old_cue_programs(
            timeline, old, timeline_path=path, track=options.track, relink=relink
        )
    scene_list = scoring.follow_plan(
        timeline, programs, timeline_path=path, track=options.track, relink=relink
    )
    found, old_index = conform_rules.match(
        scene_list.scenes, old, **_recorded_recipe(old), old_programs=programs
    )
    return tuple(found.report(old_index))


def _recorded_recipe(old: Sequence[ScoredCue]) -> dict:
    """How the old score made its cues (its first cue's playing take): preset, hits, stems."""
    recipe = cue_from_metadata(old[0].takes[-1])
    return {"preset": recipe.preset, "hits": recipe.hits, "stems": bool(recipe.stems)}


def conform(
    old_path: Path,
    new_path: Path,
    options: ScoreOptions,
    engine: Engine,
    *,
    output: Path | None = None,
    force: bool = False,
    say: Say = _quiet,
    progress: Progress = _no_progress,
) -> Written:
    """`vm-editor conform OLD NEW`: NEW scored from OLD's cues (kept, re-fit, regenerated, new),
    written to NEW's scored name (or `output`); neither input is modified."""
    old_path, new_path = Path(old_path), Path(new_path)
    input_guard.check_crossfade(options.crossfade)
    scoring.check_controls(options.mood, options.energy)
    old_timeline = read_timeline_report(old_path, project=options.project).timeline
    old = read_score(old_timeline, old_path)
    if not old:
        raise EditorInputError(f"{old_path}: holds no VidMusician score; score it first (vm-editor score)")
    report = read(new_path, options, say)
    out_path = output or default_output_path(new_path)
    check_text(options, out_path, explicit_output=output is not None)
    if same_file(out_path, old_path):
        raise OutputExistsError(f"{out_path}: is OLD, which is never modified; choose another -o")
    cue_folder = options.cue_dir or cue_folder_for(out_path)
    outputs.check_score_outputs(
        new_path,
        out_path,
        explicit=True,  # NEW is never its own output either
        force=force,
        cue_folder=cue_folder,
        option="--cue-dir" if options.cue_dir else "the cue folder",
    )
    outputs.check_writer_carries_score(report.timeline, out_path, new_path)
    # the old score's settings: a kept cue matches only its own
    options = dataclasses.replace(options, **_recorded_recipe(old), takes=1)
    relink = list(options.relink)
    try:
        programs = scoring.old_cue_programs(
            old_timeline, old, timeline_path=old_path, track=options.track, relink=relink
        )
    except EditorInputError:  # OLD's pictures cannot be read here: each take's recorded program
        programs = {c.index: p for c in old if (p := cue_from_metadata(c.takes[-1]).program)}
    if not programs:
        raise EditorInputError(f"{old_path}: its cues' pictures cannot be read; relink its media (--relink)")
    timeline, _ = without_score(report.timeline)  # OLD's score (and takes) replace any NEW carries
    timeline = carry_score(timeline, old_timeline)
    scene_list = scoring.follow_plan(
        timeline, programs, timeline_path=new_path, track=options.track, relink=relink
    )
    if not scene_list.scenes:
        raise EditorInputError(f"{new_path}: the chosen video track has no clips to score")
    _check_media(new_path, scene_list, options.allow_offline, say)
    return _score_and_write(
        new_path, options, engine, timeline, scene_list, old, out_path, cue_folder, force=force,
        old_programs=programs, say=say, progress=progress,
    )  # fmt: skip


# -- regenerate ----------------------------------------------------------------------------------
def regenerate_cue(
    path: Path,
    cue: int,
    options: ScoreOptions,
    engine: Engine,
    *,
    output: Path | None = None,
    force: bool = False,
    hits: bool | None = None,
    stems: bool | None = None,
    say: Say = _quiet,
    progress: Progress = _no_progress,
) -> Written:
    """`vm-editor regenerate`: a new take of cue `cue` (`scoring.next_take`: take + 1, the seed
    after the last one's unless given), continuing from the cue before it, written beside the cue
    it replaces (or into --cue-dir); the old take stays, disabled. `hits` / `stems` None: as the
    cue was scored; so do its prompt, mood and energy unless `options` give them."""
    path = Path(path)
    scoring.check_controls(options.mood, options.energy)
    timeline = read(path, options, say).timeline
    cues = input_guard.checked_cue_metadata(timeline, path)
    if not cues:
        raise EditorInputError(f"{path}: no VidMusician score track; score the timeline first")
    if cue not in cues:
        raise EditorInputError(f"{path}: no cue {cue}; its cues are {sorted(cues)}")
    old_wav = url_to_path(cues[cue].get("wav_url", ""))
    out_path = output or scored_output_path(path)  # no growing names
    check_text(options, out_path, explicit_output=output is not None)
    if out_path.exists() and not (force or same_file(out_path, path)):
        raise EditorInputError(f"{out_path}: already exists; pass --force to replace it or choose -o")
    input_guard.check_output(out_path, options.cue_dir)
    # beside the cue it replaces, unless --cue-dir says where
    folder = options.cue_dir or (old_wav.parent if old_wav is not None else cue_folder_for(out_path))
    regen = scoring.regenerate_request(
        timeline,
        cues,
        cue,
        cue_dir=engine_cue_dir(engine, folder),
        timeline_path=path,
        track=options.track,
        seed=options.seed,
        prompt=options.prompt,
        guidance=options.guidance,
        hits=hits,  # None: as the cue was scored
        stems=stems,
        score_name=path.stem.split(".")[0],
        mood=options.mood,
        energy=options.energy,
    )
    if regen.pictures_changed:
        say(f"warning: the pictures under cue {cue} changed since it was scored")
    result = engine.score(regen.request, progress=progress(None))
    for warning in result.warnings:
        say(f"warning: {warning}")
    (new,) = deliver(engine, result.cues, folder)
    try:
        updated = replace_cue(timeline, new, timeline_path=path)
    except KeyError as exc:
        raise EditorInputError(f"{path}: {exc.args[0]}") from exc
    written = write_timeline_atomic(updated, out_path, input_path=path, force=force, replace_input=True)
    return Written(written, (new,), Path(new.wav_path).parent, take=regen.take)
