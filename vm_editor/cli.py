"""`vm-editor`: score a timeline, list its scenes, regenerate one cue, open the panel (DESIGN.md §7).

A thin layer: every command is a function over vm_editor's modules. Bad input becomes one
`error:` line and exit status 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from engine.api import CUE_ENERGIES, CUE_MOODS, CueResult, Engine, ProgressEvent
from engine.errors import EngineInputError, run_command
from engine.in_process import InProcessEngine
from vm_editor import conform, input_guard, outputs, request_limits, scoring
from vm_editor.cue_files import move_cues
from vm_editor.engine_client import ServiceEngine
from vm_editor.errors import EditorInputError, OutputExistsError
from vm_editor.media_links import url_to_path
from vm_editor.outputs import cue_folder_for
from vm_editor.scenes import SceneList, cue_label, scenes_to_json, to_engine_scene
from vm_editor.score_track import (
    add_or_replace_score,
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
from vm_editor.writeback import replace_cue


def _add_project_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--project", default=None, metavar="NAME|N", help="FCPXML with several projects: which one (first)"
    )


def _read(args: argparse.Namespace):
    """Read the timeline and say on stderr what was assumed or chosen."""
    report = read_timeline_report(args.timeline, rate=args.rate, project=args.project)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return report


def _add_read_options(p: argparse.ArgumentParser) -> None:
    """How to read the timeline (score, scenes, rhythm, panel)."""
    p.add_argument("--track", type=int, default=None, help="video track to score (1 = lowest)")
    p.add_argument("--rate", type=float, default=None, help="frame rate for formats without one (EDL)")
    _add_project_option(p)
    p.add_argument("--relink", type=Path, action="append", default=[], help="folder to search for media")


def _add_cues_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cues",
        choices=("auto", "per-clip", "one"),
        default="auto",
        help="cue plan over the program: auto (gaps, cue markers, changes of world: another source "
        "that looks different; changes of meaning), per-clip, one",
    )


def _add_timeline_options(p: argparse.ArgumentParser) -> None:
    _add_read_options(p)
    p.add_argument("--in", dest="record_in", default=None, help="score from here (timecode, frames or 10.5s)")
    p.add_argument("--out", dest="record_out", default=None, help="score up to here (exclusive)")
    p.add_argument(
        "--merge", action="append", default=[], metavar="A-B", help="merge scenes A..B into one cue"
    )
    p.add_argument("--merge-all", action="store_true", help="one cue under the whole track")
    p.add_argument("--split-at-markers", action="store_true", help="markers start new cues")
    _add_cues_option(p)


def _add_recipe_options(p: argparse.ArgumentParser) -> None:
    """What the music is made from (score, regenerate, panel): the same names everywhere."""
    p.add_argument(
        "--seed", type=int, default=None, help="cue K's first take gets a seed derived from N and K"
    )
    p.add_argument("--prompt", default=None, help="text style prompt mixed with the pictures")
    p.add_argument("--guidance", type=float, default=None, help="how strongly pictures/prompt steer (CFG)")
    p.add_argument(
        "--mood",
        default=None,
        metavar="M",
        help=f"the cue's mood over the prompt's words: {', '.join(CUE_MOODS)}, or {scoring.AUTO} "
        "(the prompt decides); sets its style unless the prompt names one, and its mode and energy "
        "unless the prompt's words do (regenerate: as the cue was scored unless given)",
    )
    p.add_argument(
        "--energy",
        default=None,
        metavar="E",
        help=f"the cue's energy (note density), over the prompt and the mood: {', '.join(CUE_ENERGIES)}, "
        f"or {scoring.AUTO}",
    )


def _add_score_options(p: argparse.ArgumentParser) -> None:
    """Settings of a whole score (score, panel)."""
    p.add_argument("--preset", default="tiny")
    p.add_argument("--crossfade", type=float, default=0.5, help="seconds of dissolve where cues touch")
    p.add_argument(
        "--allow-offline", action="store_true", help="score clips whose media is offline, without pictures"
    )


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cue-dir", type=Path, default=None, help="where cue WAVs go")
    _add_recipe_options(p)
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument(
        "--no-hits",
        action="store_true",
        help="no forced accents at cuts and markers: the model alone follows the pictures",
    )
    p.add_argument(
        "--stems",
        action="store_true",
        help="also one WAV per stream beside each cue: <cue>.drums/.bass/.harmony/.melody.wav",
    )
    _add_in_process_option(p)


def _add_in_process_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run the engine in this process instead of the local service",
    )


CONTRACT = """\
contract for scripts (DESIGN.md §7):
  cues       --cues auto (default: a new cue at a gap >= 1 s, a cue/music in/out marker, a change
             of world (a cut to another source that looks different) or a change of meaning
             between shots; 4-90 s), per-clip, or one; --merge A-B acts on cues; in a score a
             cue's style changes only at a change of world or a marker
  scenes T --json
             one entry per cue: index, name, record_start_s, record_end_s, source, markers_s,
             segments [{url, source_start_s, source_end_s, record_start_s, record_end_s, speed}]
             (record times timeline-relative, speed < 0 reversed, url null for black),
             edit_points_s (timeline-relative)
  rhythm T --cue K --json
             what the engine conditions cue K on: {fps: 50, curve, cues, edit_points_s,
             cls_frames}, times relative to the cue's start
  outputs    score writes <stem>.scored.<ext> (<name>.scored.otio for EDL and AAF:
             cut.edl.scored.otio), cues in <output name>_cues (dots as _); refused before any
             scoring: an existing file without --force (a scored input's own default output
             included), -o naming the input (always), a writer that cannot carry the score,
             a cue folder that takes no files
  conform    score on a timeline that carries a score (its own, or the scored file --force
             replaces) keeps each cue whose pictures did not change (same source_hash, preset,
             hits, stems; WAV on disk): its file, take, seed, prompt and takes; a cue whose
             shots were only trimmed is re-fit (as in conform OLD NEW); the others are scored,
             continuing from kept neighbours; a report (kept / re-fit / regenerated / new /
             removed) on stderr; --fresh scores every cue anew
  conform OLD NEW
             NEW (the recut) scored from OLD (its scored cut): each old cue found again in NEW by
             the media and source times of its shots; unchanged cues kept (file, take, seed,
             prompt, takes); a cue whose shots were only trimmed is re-fit: its saved notes
             re-timed (at most 4 % tempo change between cuts) so its hits land on the moved cuts,
             re-rendered, no new music; else regenerated continuing from its neighbour; new
             pictures get new cues; writes <NEW stem>.scored.<ext> (or -o), never OLD or NEW;
             report: kept / re-fit / regenerated / new / removed
  score T    one clip per cue; touching cues continue each other's music and crossfade from
             the cut into a 1 s rendered handle; --cue-dir DIR (also with the service);
             --no-hits leaves cuts and markers to the model (no forced accents); --stems
             also writes <cue>.drums/.bass/.harmony/.melody.wav (listed in the clip metadata);
             --takes N: N takes per cue (take k opens in the k-th most likely style), the last
             one playing, the others on the takes track
  regenerate S --cue K
             a new take of cue K (index as in the score's metadata and `scenes`): continues
             from cue K-1, crossfades into K+1, leaves every other cue file untouched; keeps
             the cue's hits and stems settings unless --hits/--no-hits, --stems/--no-stems
  cue numbers
             from 0, the same everywhere: --cue K, `index` in scenes --json, cue_index in the
             metadata, cueKKK in WAV names, the panel's rows, the progress lines
  seeds      cue K's first take: derive_cue_seed(--seed, K), in score and in the panel alike
  controls   --mood M (tension, action, sadness, uplift, comedy, romance, wonder) and --energy E
             (low, medium, high) beat the prompt's words; score and conform: every cue they
             score, regenerate: cue K (kept from its metadata unless given; auto: the prompt
             decides again); kept and re-fit cues keep theirs (metadata mood, energy)
  panel      takes score's --rate --track --project --relink --cues --merge --merge-all
             --split-at-markers --in --out --preset --seed --prompt --mood --energy --guidance --cue-dir
             --allow-offline --crossfade --no-hits --stems; reopens a scored file with its
             music and takes
  engines    the local service by default (started when none runs); --in-process runs it
             here; the panel (`vm-editor panel`) runs in-process unless --service
  errors     exit 2 with one `error:` line naming the file/clip and the fix
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vm-editor",
        description="Score a timeline with VidMusician",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=CONTRACT,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="generate music for every scene and write a scored timeline")
    score.add_argument("timeline", type=Path)
    score.add_argument("-o", "--output", type=Path, default=None)
    _add_score_options(score)
    _add_timeline_options(score)
    _add_engine_options(score)
    score.add_argument(
        "--fresh",
        action="store_true",
        help="score every cue anew (a scored timeline's cues otherwise keep their music where "
        "their pictures did not change); the earlier ones stay as takes",
    )
    score.add_argument(
        "--takes",
        type=int,
        default=1,
        metavar="N",
        help=f"N alternative takes of every cue (1-{scoring.MAX_TAKES}): take k opens in the k-th "
        "most likely style for its pictures (in a named style: the other end of its tempo range); "
        "the last is the one playing, the others wait, disabled, on the takes track",
    )
    score.set_defaults(func=cmd_score)

    conf = sub.add_parser(
        "conform",
        help="score a recut from its earlier scored cut: unchanged cues kept, trimmed ones re-fit",
        description="OLD is a timeline written by `vm-editor score`; NEW is the recut (any format "
        "score reads). Each old cue is found again in NEW by the media and source times of its "
        "shots: a cue whose pictures did not change keeps its file, take, seed, prompt and takes; "
        "a trimmed one is re-fit (its notes re-timed, at most 4 % tempo change, hits on the moved "
        "cuts), else regenerated continuing from its neighbour; pictures no old cue had get new "
        "cues. Writes NEW scored; neither input is modified.",
    )
    conf.add_argument("old", type=Path, help="the scored timeline (score track and cue metadata)")
    conf.add_argument("timeline", type=Path, metavar="new", help="the recut")
    conf.add_argument("-o", "--output", type=Path, default=None, help="default: NEW's scored name")
    _add_read_options(conf)
    conf.add_argument("--crossfade", type=float, default=0.5, help="seconds of dissolve where cues touch")
    conf.add_argument(
        "--allow-offline", action="store_true", help="score clips whose media is offline, without pictures"
    )
    conf.add_argument("--cue-dir", type=Path, default=None, help="where new and re-fit cue WAVs go")
    _add_recipe_options(conf)
    conf.add_argument("--force", action="store_true", help="replace an existing output file")
    _add_in_process_option(conf)
    conf.set_defaults(func=cmd_conform)

    scenes = sub.add_parser("scenes", help="list the scenes that would be scored")
    scenes.add_argument("timeline", type=Path)
    _add_timeline_options(scenes)
    scenes.add_argument("--preset", default="tiny", help="the preset whose encoder spots --cues auto")
    scenes.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md §7)")
    _add_in_process_option(scenes)
    scenes.set_defaults(func=cmd_scenes)

    rhythm = sub.add_parser("rhythm", help="what the engine conditions one cue on (--json)")
    rhythm.add_argument("timeline", type=Path)
    _add_timeline_options(rhythm)
    rhythm.add_argument("--cue", type=int, required=True, help="cue index (as in `scenes --json`)")
    rhythm.add_argument("--preset", default="tiny")
    rhythm.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md §7)")
    _add_in_process_option(rhythm)
    rhythm.set_defaults(func=cmd_rhythm)

    regen = sub.add_parser("regenerate", help="a new take of one cue of a scored timeline")
    regen.add_argument("timeline", type=Path, help="a timeline written by `vm-editor score`")
    regen.add_argument("--cue", type=int, required=True, help="cue index (as in `scenes --json`)")
    regen.add_argument("-o", "--output", type=Path, default=None)
    regen.add_argument("--track", type=int, default=None, help="the video track that was scored")
    regen.add_argument("--rate", type=float, default=None)
    _add_project_option(regen)
    _add_engine_options(regen)
    regen.add_argument("--hits", action="store_true", help="accents at cuts and markers again")
    regen.add_argument("--no-stems", action="store_true", help="no stems for the new take")
    regen.set_defaults(func=cmd_regenerate)

    panel = sub.add_parser(
        "panel",
        help="open the Qt panel (a window; --screenshot renders once) with score's options",
        description="The panel opens TIMELINE as `vm-editor score` reads it: the same cue plan, "
        "seeds, guidance and checks; a scored timeline opens with its cues, music and takes.",
    )
    panel.add_argument("timeline", type=Path, nargs="?")
    panel.add_argument("--screenshot", type=Path, default=None, help="save one render as PNG and exit")
    _add_timeline_options(panel)
    _add_score_options(panel)
    panel.add_argument("--cue-dir", type=Path, default=None, help="where cue WAVs go")
    _add_recipe_options(panel)
    panel.add_argument("--no-hits", action="store_true", help="no forced accents at cuts and markers")
    panel.add_argument("--stems", action="store_true", help="also one WAV per stream beside each cue")
    panel.add_argument(
        "--service", action="store_true", help="score through the local service (default: in-process)"
    )
    panel.set_defaults(func=cmd_panel)

    watch = sub.add_parser("watch", help="score every timeline exported into a folder, next to it")
    watch.add_argument("folder", type=Path)
    watch.add_argument("--once", action="store_true", help="one pass over the folder, then exit")
    watch.add_argument("--preset", default="tiny")
    watch.add_argument("--rate", type=float, default=None, help="frame rate for formats without one (EDL)")
    watch.add_argument("--cues", choices=("auto", "per-clip", "one"), default="auto")
    watch.add_argument("--seed", type=int, default=None)
    watch.add_argument("--prompt", default=None, help="text style prompt mixed with the pictures")
    watch.add_argument("--mood", default=None, metavar="M", help=f"as score's: {', '.join(CUE_MOODS)}")
    watch.add_argument("--energy", default=None, metavar="E", help=f"as score's: {', '.join(CUE_ENERGIES)}")
    _add_in_process_option(watch)
    watch.set_defaults(func=cmd_watch)

    host = sub.add_parser("install-host", help="put the launcher into Resolve's or Hiero's scripts folder")
    host.add_argument("host", choices=("resolve", "hiero"))
    host.add_argument("--dry-run", action="store_true", help="only say where it would write")
    host.set_defaults(func=cmd_install_host)
    return parser


# -- scenes ------------------------------------------------------------------------------------
def _load_scenes(args: argparse.Namespace):
    report = _read(args)
    return report.timeline, _plan(args, report.timeline)


def _plan(args: argparse.Namespace, timeline) -> SceneList:
    """The cue plan `score`, `scenes` and `rhythm` share (auto, and any score, asks the engine
    what the shots look like: `worlds`)."""
    return scoring.plan_cues(
        timeline,
        mode=args.cues,
        timeline_path=args.timeline,
        track=args.track,
        relink=[str(p) for p in args.relink],
        # auto splits at world changes and meaning changes; a score holds each cue's style per world
        engine=_engine(args) if args.cues == "auto" or args.command == "score" else None,
        preset=getattr(args, "preset", "tiny"),
        merge=args.merge,
        split_at_markers=args.split_at_markers,
        record_in=args.record_in,
        record_out=args.record_out,
        merge_all=args.merge_all,
        # a score too large for one request is refused before the engine is asked anything
        check_size=(lambda n, total_s: request_limits.check_plan_size(args.timeline, n, total_s))
        if args.command == "score"
        else None,
    )


def _check_media(timeline_path: Path, scene_list: SceneList, allow_offline: bool) -> None:
    """Offline media: refused, or scored without pictures with a warning (`scoring.check_offline`)."""
    warning = scoring.check_offline(scene_list, timeline_path, allow_offline)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


# -- progress ----------------------------------------------------------------------------------
class _ProgressPrinter:
    """Per-cue lines on stderr from the engine's typed progress events (either engine).

    `header` is said with the first event: once the engine has accepted the request, so a request
    it refuses (a clip past its media's end) gets its one `error:` line alone.
    """

    def __init__(self, header: str | None = None):
        self.header = header

    def __call__(self, event: ProgressEvent) -> None:
        if self.header:
            print(self.header, file=sys.stderr, flush=True)
            self.header = None
        if event.stage in ("features", "done"):
            what = (
                "reading pictures..."
                if event.stage == "features"
                else f"cue ready ({event.elapsed_s:.1f} s elapsed){_how_it_plays(event.cue)}"
            )
            print(
                f"[{event.scene_position}/{event.scene_count}] {cue_label(event.scene_index)} "
                f"({event.scene_name}): {what}",
                file=sys.stderr,
                flush=True,
            )


def _how_it_plays(cue: CueResult | None) -> str:
    """", 96 bpm 3/4, A minor": the tempo and key a cue was written in, as far as it recorded them."""
    if cue is None:
        return ""
    parts = [] if cue.tempo is None else [f"{cue.tempo.bpm:.0f} bpm {cue.tempo.beats_per_bar}/4"]
    if cue.key is not None:
        parts.append(cue.key.name)
    return "".join(f", {p}" for p in parts)


def engine_start_line(elapsed_s: float, expected_s: float) -> str:
    """ "starting engine… 40 % (about 7 s left)": the estimate is the last start's duration."""
    if elapsed_s >= expected_s:
        return f"starting engine... 100 % (ready in {elapsed_s:.1f} s)"
    percent = min(99, int(100 * elapsed_s / expected_s))
    return f"starting engine... {percent:3d} % (about {max(1, round(expected_s - elapsed_s))} s left)"


def _print_engine_start(elapsed_s: float, expected_s: float) -> None:
    done = elapsed_s >= expected_s
    print(
        "\r" + engine_start_line(elapsed_s, expected_s), end="\n" if done else "", file=sys.stderr, flush=True
    )


def _print_notice(line: str) -> None:
    """What the engine client tells the user on its way (an outdated engine being restarted)."""
    print(line, file=sys.stderr, flush=True)


def _engine(args: argparse.Namespace) -> Engine:
    """The engine behind `--in-process` (this process) or the local service (the default)."""
    if getattr(args, "in_process", False):
        return InProcessEngine()
    return ServiceEngine(on_start=_print_engine_start, on_notice=_print_notice)


def _cue_dir(args: argparse.Namespace, out_path: Path) -> Path:
    """Where the engine writes: the chosen folder in-process; a folder named for the score inside
    the service's own cue root (the editor side then moves the cues, see `_deliver`)."""
    if args.in_process:
        if args.cue_dir is not None:
            return args.cue_dir.resolve()
        return cue_folder_for(out_path).resolve()
    return Path(cue_folder_for(out_path).name)


def _deliver(args: argparse.Namespace, cues, folder: Path | None):
    """Service mode: move finished cues (WAV and tokens) from the engine's root into `folder`."""
    if args.in_process or folder is None:
        return tuple(cues)
    return move_cues(cues, folder)


def _same_file(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _refuse_existing(out_path: Path, force: bool) -> None:
    if out_path.exists() and not force:
        raise EditorInputError(f"{out_path}: already exists; pass --force to replace it or choose -o")


# -- commands ----------------------------------------------------------------------------------
def cmd_scenes(args: argparse.Namespace) -> int:
    _, scene_list = _load_scenes(args)
    doc = scenes_to_json(scene_list)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"track {doc['track']!r} at {doc['rate']:g} fps, {doc['duration_s']:.2f} s")
    for s in doc["scenes"]:
        where = s["source"]["url"] if s["source"] else "(no media)"
        start, end = s["record_start_s"], s["record_end_s"]
        print(f"{s['index']:3d}  {start:9.3f} - {end:9.3f}  {s['name']}  {where}")
    return 0


def cmd_rhythm(args: argparse.Namespace) -> int:
    _, scene_list = _load_scenes(args)
    if not 0 <= args.cue < len(scene_list.scenes):
        raise EditorInputError(f"{args.timeline}: no cue {args.cue}; it has {len(scene_list.scenes)} cue(s)")
    scene = scene_list.scenes[args.cue]
    doc = dataclasses.asdict(_engine(args).conditioning(to_engine_scene(scene), args.preset))
    doc = {k: list(v) if isinstance(v, tuple) else v for k, v in doc.items()}
    if args.json:
        print(json.dumps(doc))
    else:
        print(
            f"cue {args.cue}: {len(doc['curve'])} frames at {doc['fps']} Hz, edit points {doc['edit_points_s']}"
        )
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    input_guard.check_crossfade(args.crossfade)
    scoring.check_takes(args.takes)
    scoring.check_controls(args.mood, args.energy)
    out_path = args.output or default_output_path(args.timeline)
    report = _read(args)  # the input's own problems first (its name, its bytes)
    timeline = report.timeline
    _check_utf8_options(args, out_path)
    cue_folder = args.cue_dir or cue_folder_for(out_path)
    outputs.check_score_outputs(
        args.timeline,
        out_path,
        explicit=args.output is not None,
        force=args.force,
        cue_folder=cue_folder,
        option="--cue-dir" if args.cue_dir else "the cue folder",
    )
    ours = is_our_output(timeline)  # a scored timeline may replace itself (--force), no other input
    if _same_file(out_path, args.timeline) and not ours:
        raise OutputExistsError(
            f"{out_path}: is the input timeline and holds no VidMusician score; choose another -o"
        )
    outputs.check_writer_carries_score(timeline, out_path, args.timeline)
    if args.output is None and (note := output_format_note(args.timeline)):
        print(f"note: {note}", file=sys.stderr)
    if out_path.exists() and not _same_file(out_path, args.timeline):  # replaced (--force given)
        timeline = _carry_previous_score(timeline, out_path)
    scene_list = _plan(args, timeline)
    _check_media(args.timeline, scene_list, args.allow_offline)
    if not scene_list.scenes:
        raise EditorInputError(f"{args.timeline}: the chosen video track has no clips to score")
    old = [] if args.fresh else read_score(timeline, args.timeline)
    return _score_and_write(args, timeline, scene_list, old, out_path, cue_folder, replace_input=ours)


def _score_and_write(
    args: argparse.Namespace,
    timeline,
    scene_list: SceneList,
    old: list,
    out_path: Path,
    cue_folder: Path,
    *,
    replace_input: bool = False,
    old_programs: dict | None = None,
) -> int:
    """Conform to `old` (kept cues keep their music, trimmed ones are re-fit), score the rest,
    write OUT: the end of `score` and of `conform`."""
    plan, old_index = (None, {})
    if old:  # conform: cues whose pictures did not change keep their music
        plan, old_index = conform.match(
            scene_list.scenes,
            old,
            preset=args.preset,
            hits=not args.no_hits,
            stems=args.stems,
            old_programs=old_programs,
        )
    request = scoring.build_request(
        scene_list,
        cue_dir=str(_cue_dir(args, out_path)),
        preset=args.preset,
        seed=args.seed or 0,
        prompt=args.prompt,
        guidance=args.guidance,
        score_name=args.timeline.stem,
        hits=not args.no_hits,
        stems=args.stems,
        mood=args.mood,
        energy=args.energy,
    )
    kept = dict(plan.kept) if plan is not None else {}
    for index in sorted(plan.refit) if plan is not None else ():  # in order: each after its neighbour
        refit = conform.refit_request(
            plan,
            scene_list.scenes,
            index,
            kept,
            cue_dir=str(_cue_dir(args, out_path)),
            score_name=args.timeline.stem,
        )
        try:
            (kept[index],) = _deliver(args, (_engine(args).refit(refit),), cue_folder)
        except (EngineInputError, EditorInputError) as exc:  # its tokens unreadable, say: new music
            print(f"warning: cue {index} cannot be re-fit ({exc}); it is regenerated", file=sys.stderr)
            plan = plan.regenerating(index)
    if kept:  # the cues to score continue from a kept or re-fit neighbour's saved tokens
        todo = tuple(s for s in request.scenes if s.index not in kept)
        request = dataclasses.replace(request, scenes=scoring.continue_from_finished(todo, kept))
    request_limits.check_request_size(args.timeline, request)
    if not args.in_process:  # the service reads one JSON body of limited size
        request_limits.check_body_size(args.timeline, request)
    if not request.scenes:
        print(f"every cue of {args.timeline.name} is kept or re-fit: nothing to score", file=sys.stderr)
    takes: list[tuple] = []  # each take's finished cues, take 1 first
    for take in range(1, args.takes + 1) if request.scenes else ():
        # the line is said once the engine has accepted the request
        header = f"scoring {len(request.scenes)} scene(s) of {args.timeline.name} with preset '{args.preset}'"
        header += f" ({len(kept)} kept or re-fit)" if kept else ""
        header += f", take {take} of {args.takes}" if args.takes > 1 else ""
        result = _engine(args).score(scoring.take_request(request, take), progress=_ProgressPrinter(header))
        for warning in result.warnings if take == 1 else ():
            print(f"warning: {warning}", file=sys.stderr)
        takes.append(_deliver(args, result.cues, cue_folder))
    fresh: tuple = takes[0] if takes else ()
    cues = sorted([*fresh, *kept.values()], key=lambda c: c.index)
    scored = add_or_replace_score(
        timeline, scene_list.scenes, cues, crossfade_s=args.crossfade, moved=plan.moved if plan else None
    )
    for later in takes[1:]:  # each later take plays, the one before it waits on the takes track
        for cue in later:
            scored = replace_cue(scored, cue)
    if plan is not None:
        conform.keep_history(scored, plan)
        for line in plan.report(old_index):
            print(line, file=sys.stderr)
    written = write_timeline_atomic(
        scored, out_path, input_path=args.timeline, force=args.force, replace_input=replace_input
    )
    folder = Path((fresh or cues)[0].wav_path).parent if cues else "-"
    print(f"wrote {written} ({len(cues)} cue(s) in {folder})")
    return 0


def cmd_conform(args: argparse.Namespace) -> int:
    """NEW scored from OLD's cues: kept, re-fit, regenerated or new (`vm_editor.conform`)."""
    input_guard.check_crossfade(args.crossfade)
    scoring.check_controls(args.mood, args.energy)
    old_timeline = read_timeline_report(args.old, project=args.project).timeline
    old = read_score(old_timeline, args.old)
    if not old:
        raise EditorInputError(f"{args.old}: holds no VidMusician score; score it first (vm-editor score)")
    report = _read(args)
    out_path = args.output or default_output_path(args.timeline)
    _check_utf8_options(args, out_path)
    if _same_file(out_path, args.old):
        raise OutputExistsError(f"{out_path}: is OLD, which is never modified; choose another -o")
    cue_folder = args.cue_dir or cue_folder_for(out_path)
    outputs.check_score_outputs(
        args.timeline,
        out_path,
        explicit=True,  # NEW is never its own output either
        force=args.force,
        cue_folder=cue_folder,
        option="--cue-dir" if args.cue_dir else "the cue folder",
    )
    outputs.check_writer_carries_score(report.timeline, out_path, args.timeline)
    recipe = old[0].takes[-1]  # the old score's settings: a kept cue matches only its own
    args.preset = str(recipe.get("preset") or "tiny")
    args.no_hits = str(recipe.get("hits", True)).strip().lower() in ("false", "0", "no")
    args.stems = bool(recipe.get("stems"))
    args.takes, args.fresh = 1, False
    relink = [str(p) for p in args.relink]
    try:
        programs = scoring.old_cue_programs(
            old_timeline, old, timeline_path=args.old, track=args.track, relink=relink
        )
    except EditorInputError:  # OLD's pictures cannot be read here: each take's recorded program
        programs = {c.index: p for c in old if (p := cue_from_metadata(c.takes[-1]).program)}
    if not programs:
        raise EditorInputError(f"{args.old}: its cues' pictures cannot be read; relink its media (--relink)")
    timeline, _ = without_score(report.timeline)  # OLD's score (and takes) replace any NEW carries
    timeline = carry_score(timeline, old_timeline)
    scene_list = scoring.follow_plan(
        timeline, programs, timeline_path=args.timeline, track=args.track, relink=relink
    )
    if not scene_list.scenes:
        raise EditorInputError(f"{args.timeline}: the chosen video track has no clips to score")
    _check_media(args.timeline, scene_list, args.allow_offline)
    return _score_and_write(args, timeline, scene_list, old, out_path, cue_folder, old_programs=programs)


def _carry_previous_score(timeline, out_path: Path):
    """The score and takes of the output about to be replaced, carried into the new one."""
    try:
        previous = read_timeline_report(out_path).timeline
    except EditorInputError:
        return timeline  # not a timeline we can read: nothing of ours to keep
    old = read_score(previous, out_path)
    if not old:
        return timeline
    takes = sum(len(c.takes) for c in old)
    print(
        f"note: {out_path} already holds a score: its {len(old)} cue(s) ({takes} take(s) in all) "
        "are kept as takes in the new one",
        file=sys.stderr,
    )
    return carry_score(timeline, previous)


def cmd_regenerate(args: argparse.Namespace) -> int:
    """A new take of one cue, continuing from the cue before it; the old take stays, disabled."""
    scoring.check_controls(args.mood, args.energy)
    report = _read(args)
    timeline = report.timeline
    cues = input_guard.checked_cue_metadata(timeline, args.timeline)
    if not cues:
        raise EditorInputError(f"{args.timeline}: no VidMusician score track; score the timeline first")
    if args.cue not in cues:
        raise EditorInputError(f"{args.timeline}: no cue {args.cue}; its cues are {sorted(cues)}")
    if args.hits and args.no_hits or args.stems and args.no_stems:
        raise EditorInputError("give --hits or --no-hits (--stems or --no-stems), not both")
    meta = cues[args.cue]
    take = int(meta.get("take", 1)) + 1
    old_wav = url_to_path(meta.get("wav_url", ""))
    old_folder = old_wav.parent if old_wav is not None else None
    out_path = args.output or scored_output_path(args.timeline)  # no growing names
    _check_utf8_options(args, out_path)
    _refuse_existing(out_path, args.force or _same_file(out_path, args.timeline))
    input_guard.check_output(out_path, args.cue_dir)
    regen = scoring.regenerate_request(
        timeline,
        cues,
        args.cue,
        cue_dir=str(
            _cue_dir(args, out_path) if args.cue_dir or not old_folder else _regen_cue_dir(args, old_folder)
        ),
        timeline_path=args.timeline,
        track=args.track,
        seed=args.seed,
        prompt=args.prompt,
        guidance=args.guidance,
        hits=_choice(args.hits, args.no_hits),  # None: as the cue was scored
        stems=_choice(args.stems, args.no_stems),
        score_name=args.timeline.stem.split(".")[0],
        mood=args.mood,
        energy=args.energy,
    )
    if regen.pictures_changed:
        print(f"warning: the pictures under cue {args.cue} changed since it was scored", file=sys.stderr)
    result = _engine(args).score(regen.request, progress=_ProgressPrinter())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    (cue,) = _deliver(args, result.cues, args.cue_dir or old_folder)
    try:
        updated = replace_cue(timeline, cue, timeline_path=args.timeline)
    except KeyError as exc:
        raise EditorInputError(f"{args.timeline}: {exc.args[0]}") from exc
    written = write_timeline_atomic(
        updated, out_path, input_path=args.timeline, force=args.force, replace_input=True
    )
    stems = f", stems: {', '.join(sorted(cue.stems))}" if cue.stems else ""
    print(f"wrote {written} (cue {args.cue}, take {take}: {cue.wav_path}{stems})")
    return 0


def _check_utf8_options(args: argparse.Namespace, out_path: Path) -> None:
    """Undecodable bytes in what the score records: one error before any work, not a traceback."""
    input_guard.check_utf8(out_path, "-o" if args.output else "the output (named after the timeline)")
    input_guard.check_utf8(args.cue_dir, "--cue-dir")
    input_guard.check_utf8(args.prompt, "--prompt")


def _choice(on: bool, off: bool) -> bool | None:
    return True if on else False if off else None


def _regen_cue_dir(args: argparse.Namespace, old_folder: Path) -> Path:
    """Next to the cue it replaces (in-process), or a folder of that name in the service's root."""
    return old_folder if args.in_process else Path(old_folder.name)


def cmd_panel(args: argparse.Namespace) -> int:
    """The panel runs as its own process: vm_editor stays free of Qt imports (DESIGN.md §4).
    It gets the options as given; `python -m ui` parses them with this parser (`panel_args`)."""
    import subprocess

    argv = list(getattr(args, "argv", None) or [])
    options = argv[argv.index("panel") + 1 :] if "panel" in argv else []
    debug = ["--debug"] if args.debug else []
    return subprocess.call([sys.executable, "-m", "ui", *debug, *options])


def panel_args(argv: list[str]) -> argparse.Namespace:
    """`vm-editor panel`'s options parsed (what `python -m ui` runs with): one definition."""
    debug = argv[:1] == ["--debug"]
    return build_parser().parse_args([*argv[:1]] * debug + ["panel", *argv[debug:]])


def run_panel_command(argv: list[str], run) -> int:
    """`python -m ui`: `run(args)` with `vm-editor panel`'s options, errors as the CLI's."""
    args = panel_args(argv)
    args.func = run
    return run_command(args, (EditorInputError, EngineInputError), quiet=True)


def cmd_watch(args: argparse.Namespace) -> int:
    """`score` for each finished export in the folder; one file's error does not stop the others."""
    from vm_editor import read_probe
    from vm_editor.watch import FolderWatch, watch_rate

    if not args.folder.is_dir():
        raise EditorInputError(f"{args.folder}: not a folder; give the folder your editor exports into")
    options = [f"--preset={args.preset}", f"--cues={args.cues}"]
    scoring.check_controls(args.mood, args.energy)
    recipe = (
        ("--seed", args.seed),
        ("--prompt", args.prompt),
        ("--mood", args.mood),
        ("--energy", args.energy),
    )
    for flag, value in (("--rate", args.rate), *recipe):
        if value is not None:
            options.append(f"{flag}={value}")  # one token: a prompt may start with "-"
    if args.in_process:
        options.append("--in-process")

    def score_one(path: Path) -> bool:
        """`score --force` on one file (an earlier scored file's cues and takes are carried into the
        new one); its errors go to the watch, which logs one line and goes on."""
        try:
            rate = watch_rate(path, args.folder, args.rate)
        except EditorInputError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return False
        # a reader crashing on this file ends a child process, not the watch (one failed: line)
        read_probe.check_reader_survives(path, rate)
        extra = ["--rate", str(rate)] if rate is not None and args.rate is None else []
        score_args = build_parser().parse_args(["score", "--force", *options, *extra, "--", str(path)])
        score_args.debug = args.debug
        return cmd_score(score_args) == 0

    FolderWatch(args.folder, score_one, user_errors=(EditorInputError, EngineInputError)).run(once=args.once)
    return 0


def cmd_install_host(args: argparse.Namespace) -> int:
    """Launchers with this install's Python baked in (inside a host, sys.executable is the host)."""
    from vm_editor import host_install

    items = host_install.launchers(args.host)
    if args.dry_run:
        for item in items:
            print(f"would write {item.path}")
        print(f"(with {items[0].text.split('VIDMUSICIAN_PYTHON = ')[1].splitlines()[0]} as its Python)")
        return 0
    for path in host_install.install(items):
        print(f"wrote {path}")
    where = {
        "resolve": "in DaVinci Resolve: Workspace > Scripts > Utility > VidMusician Score "
        "(free edition 21.1 and later: VidMusician Score (Lua))",
        "hiero": "in Hiero / Nuke Studio: Window > VidMusician (restart the host once)",
    }
    print(where[args.host])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a path with undecodable bytes prints as \xff, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return run_command(args, (EditorInputError, EngineInputError), quiet=True)
    except KeyboardInterrupt as exc:  # Ctrl-C: the service client has cancelled the job already
        if args.debug:
            raise
        print(f"error: {getattr(exc, 'message', 'interrupted')}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
