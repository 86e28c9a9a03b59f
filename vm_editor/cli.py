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

from engine.api import CueResult, Engine, ProgressEvent
from engine.errors import EngineInputError, run_command
from engine.in_process import InProcessEngine
from vm_editor import score_options, session
from vm_editor.engine_client import ServiceEngine
from vm_editor.errors import EditorInputError
from vm_editor.scenes import cue_label, scenes_to_json, to_engine_scene


def _read(args: argparse.Namespace):
    """Read the timeline and say on stderr what was assumed or chosen."""
    return session.read(args.timeline, score_options.options_from_args(args), _say)


def _say(line: str) -> None:
    """The session's notes and warnings: one line each on stderr."""
    print(line, file=sys.stderr)


def _add_in_process_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run the engine in this process instead of the local service",
    )


def _add_output_options(p: argparse.ArgumentParser, output_help: str | None = None) -> None:
    """-o and --force: where one command writes, and whether it may replace a file."""
    p.add_argument("-o", "--output", type=Path, default=None, help=output_help)
    p.add_argument("--force", action="store_true", help="replace an existing output file")


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
  options    score, watch and the panel take the same score options
             (vm_editor.score_options.ScoreOptions): --rate --track --project --relink --cues
             --merge --merge-all --split-at-markers --in --out --preset --seed --prompt --mood
             --energy --guidance --no-hits --stems --takes --crossfade --allow-offline --cue-dir
  panel      reopens a scored file with its music and takes, and says how its cues still fit
             the cut (kept / re-fit / regenerated / new / removed); Conform… scores a recut
             from an earlier scored cut as `conform OLD NEW` does and shows its report
  watch      `score --force` on each finished export, with the watch's score options
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
    _add_output_options(score)
    score_options.add_score_options(score)
    _add_in_process_option(score)
    score.add_argument(
        "--fresh",
        action="store_true",
        help="score every cue anew (a scored timeline's cues otherwise keep their music where "
        "their pictures did not change); the earlier ones stay as takes",
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
    _add_output_options(conf, "default: NEW's scored name")
    # the plan follows OLD's cues, and preset, hits and stems are OLD's: a kept cue matches its own
    score_options.add_score_options(
        conf, (*score_options.READ, "crossfade", "allow_offline", "cue_dir", *score_options.RECIPE)
    )
    _add_in_process_option(conf)
    conf.set_defaults(func=cmd_conform)

    scenes = sub.add_parser("scenes", help="list the scenes that would be scored")
    scenes.add_argument("timeline", type=Path)
    score_options.add_score_options(scenes, (*score_options.READ, *score_options.PLAN, "preset"))
    scenes.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md §7)")
    _add_in_process_option(scenes)
    scenes.set_defaults(func=cmd_scenes)

    rhythm = sub.add_parser("rhythm", help="what the engine conditions one cue on (--json)")
    rhythm.add_argument("timeline", type=Path)
    score_options.add_score_options(rhythm, (*score_options.READ, *score_options.PLAN, "preset"))
    rhythm.add_argument("--cue", type=int, required=True, help="cue index (as in `scenes --json`)")
    rhythm.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md §7)")
    _add_in_process_option(rhythm)
    rhythm.set_defaults(func=cmd_rhythm)

    regen = sub.add_parser("regenerate", help="a new take of one cue of a scored timeline")
    regen.add_argument("timeline", type=Path, help="a timeline written by `vm-editor score`")
    regen.add_argument("--cue", type=int, required=True, help="cue index (as in `scenes --json`)")
    _add_output_options(regen)
    # the cue's span, preset and plan are its own (its metadata); the recipe may change
    score_options.add_score_options(
        regen, ("track", "rate", "project", "cue_dir", *score_options.RECIPE, "hits", "stems")
    )
    regen.add_argument("--hits", action="store_true", help="accents at cuts and markers again")
    regen.add_argument("--no-stems", action="store_true", help="no stems for the new take")
    _add_in_process_option(regen)
    regen.set_defaults(func=cmd_regenerate)

    panel = sub.add_parser(
        "panel",
        help="open the Qt panel (a window; --screenshot renders once) with score's options",
        description="The panel opens TIMELINE as `vm-editor score` reads it: the same cue plan, "
        "seeds, guidance and checks; a scored timeline opens with its cues, music and takes.",
    )
    panel.add_argument("timeline", type=Path, nargs="?")
    panel.add_argument("--screenshot", type=Path, default=None, help="save one render as PNG and exit")
    score_options.add_score_options(panel)
    panel.add_argument(
        "--service", action="store_true", help="score through the local service (default: in-process)"
    )
    panel.set_defaults(func=cmd_panel)

    watch = sub.add_parser("watch", help="score every timeline exported into a folder, next to it")
    watch.add_argument("folder", type=Path)
    watch.add_argument("--once", action="store_true", help="one pass over the folder, then exit")
    score_options.add_score_options(watch)  # each file is scored with `score --force` and these
    _add_in_process_option(watch)
    watch.set_defaults(func=cmd_watch)

    host = sub.add_parser("install-host", help="put the launcher into Resolve's or Hiero's scripts folder")
    host.add_argument("host", choices=("resolve", "hiero"))
    host.add_argument("--dry-run", action="store_true", help="only say where it would write")
    host.set_defaults(func=cmd_install_host)
    return parser


# -- scenes ------------------------------------------------------------------------------------
def _load_scenes(args: argparse.Namespace):
    """The cue plan `scenes` and `rhythm` show (auto asks the engine what the shots look like)."""
    report = _read(args)
    options = score_options.options_from_args(args)
    engine = _engine(args) if options.cues == "auto" else None
    return report.timeline, session.plan(report.timeline, args.timeline, options, engine)


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
    """ ", 96 bpm 3/4, A minor": the tempo and key a cue was written in, as far as it recorded them."""
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
    """`vm-editor score`: `score` with this command's flags."""
    options = score_options.ScoreOptions.from_args(args)
    return score(
        args.timeline,
        options,
        output=args.output,
        force=args.force,
        fresh=args.fresh,
        in_process=args.in_process,
    )


def score(
    timeline: Path,
    options: score_options.ScoreOptions,
    *,
    output: Path | None = None,
    force: bool = False,
    fresh: bool = False,
    in_process: bool = False,
) -> int:
    """`session.score_timeline` as the terminal shows it (score, watch, the demo): notes, warnings
    and progress on stderr, what was written on stdout."""
    written = session.score_timeline(
        timeline,
        options,
        _engine(argparse.Namespace(in_process=in_process)),
        output=output,
        force=force,
        fresh=fresh,
        say=_say,
        progress=_ProgressPrinter,
    )
    print(f"wrote {written.path} ({len(written.cues)} cue(s) in {written.folder})")
    return 0


def cmd_conform(args: argparse.Namespace) -> int:
    """NEW scored from OLD's cues: kept, re-fit, regenerated or new (`session.conform`)."""
    written = session.conform(
        args.old,
        args.timeline,
        score_options.options_from_args(args),
        _engine(args),
        output=args.output,
        force=args.force,
        say=_say,
        progress=_ProgressPrinter,
    )
    print(f"wrote {written.path} ({len(written.cues)} cue(s) in {written.folder})")
    return 0


def cmd_regenerate(args: argparse.Namespace) -> int:
    """A new take of one cue, continuing from the cue before it; the old take stays, disabled."""
    if args.hits and args.no_hits or args.stems and args.no_stems:
        raise EditorInputError("give --hits or --no-hits (--stems or --no-stems), not both")
    written = session.regenerate_cue(
        args.timeline,
        args.cue,
        score_options.options_from_args(args),
        _engine(args),
        output=args.output,
        force=args.force,
        hits=_choice(args.hits, args.no_hits),  # None: as the cue was scored
        stems=_choice(args.stems, args.no_stems),
        say=_say,
        progress=_ProgressPrinter,
    )
    (cue,) = written.cues
    stems = f", stems: {', '.join(sorted(cue.stems))}" if cue.stems else ""
    print(f"wrote {written.path} (cue {args.cue}, take {written.take}: {cue.wav_path}{stems})")
    return 0


def _choice(on: bool, off: bool) -> bool | None:
    return True if on else False if off else None


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


def run_guarded(call, *, debug: bool = False) -> int:
    """`call()` under the CLI's error rule (the demo's score): a mistake the user can fix is one
    `error:` line and exit status 2."""
    args = argparse.Namespace(debug=debug, func=lambda _args: call())
    return run_command(args, (EditorInputError, EngineInputError), quiet=True)


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
    score_options.ScoreOptions.from_args(args)  # refused once, before the first file

    def score_one(path: Path) -> bool:
        """`score --force` on one file with the watch's own options (an earlier scored file's
        cues and takes are carried into the new one); its errors go to the watch, which logs
        one line and goes on."""
        try:
            rate = watch_rate(path, args.folder, args.rate)
        except EditorInputError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return False
        # a reader crashing on this file ends a child process, not the watch (one failed: line)
        read_probe.check_reader_survives(path, rate)
        score_args = argparse.Namespace(
            **{**vars(args), "command": "score", "timeline": path, "rate": rate},
            output=None,
            force=True,
            fresh=False,
        )
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
