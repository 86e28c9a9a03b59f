"""`vm-editor`: score a timeline, list its scenes, regenerate one cue (DESIGN.md §7).

A thin layer: every command is a function over vm_editor's modules. Bad input becomes one
`error:` line and exit status 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from engine.api import ScoreRequest
from engine.errors import EngineInputError
from vm_editor.engine_client import InProcessEngine, ServiceEngine, ServiceProgress
from vm_editor.errors import EditorInputError, OfflineMediaError
from vm_editor.scenes import SceneList, extract_scenes, scenes_to_json, to_engine_scene
from vm_editor.timeline_io import default_output_path, read_timeline, write_timeline_atomic
from vm_editor.writeback import add_score_track


def _add_timeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--track", type=int, default=None, help="video track to score (1 = lowest)")
    p.add_argument("--rate", type=float, default=None, help="frame rate for formats without one (EDL)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vm-editor", description="Score a timeline with VidMusician")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser("score", help="generate music for every scene and write a scored timeline")
    score.add_argument("timeline", type=Path)
    score.add_argument("-o", "--output", type=Path, default=None)
    score.add_argument("--preset", default="tiny")
    _add_timeline_options(score)
    score.add_argument("--relink", type=Path, action="append", default=[], help="folder to search for media")
    score.add_argument("--cue-dir", type=Path, default=None, help="where cue WAVs go (default: next to -o)")
    score.add_argument("--seed", type=int, default=0)
    score.add_argument("--prompt", default=None, help="text style prompt mixed with the pictures")
    score.add_argument("--force", action="store_true", help="replace an existing output file")
    score.add_argument(
        "--in-process",
        action="store_true",
        help="run the engine in this process instead of the local service",
    )
    score.set_defaults(func=cmd_score)

    scenes = sub.add_parser("scenes", help="list the scenes that would be scored")
    scenes.add_argument("timeline", type=Path)
    _add_timeline_options(scenes)
    scenes.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md §7)")
    scenes.set_defaults(func=cmd_scenes)
    panel = sub.add_parser("panel", help="open the Qt panel (a window; --screenshot renders once)")
    panel.add_argument("timeline", type=Path, nargs="?")
    panel.add_argument("--screenshot", type=Path, default=None, help="save one render as PNG and exit")
    panel.set_defaults(func=cmd_panel)
    return parser


def cmd_panel(args: argparse.Namespace) -> int:
    """The panel runs as its own process: vm_editor stays free of Qt imports (DESIGN.md §4)."""
    import subprocess

    command = [sys.executable, "-m", "ui"]
    if args.timeline is not None:
        command.append(str(args.timeline))
    if args.screenshot is not None:
        command += ["--screenshot", str(args.screenshot)]
    return subprocess.call(command)


def _load_scenes(args: argparse.Namespace) -> tuple[object, SceneList]:
    timeline = read_timeline(args.timeline, rate=args.rate)
    return timeline, extract_scenes(timeline, track=args.track, timeline_path=args.timeline)


def _relink(scene_list: SceneList, folders: list[Path]) -> SceneList:
    """Find offline media by file name in the user's folders; everything else stays as it was."""
    import dataclasses

    if not folders:
        return scene_list
    scenes = []
    for scene in scene_list.scenes:
        if scene.offline and scene.source is not None and scene.source.path is not None:
            name = scene.source.path.name
            for folder in folders:
                hits = sorted(folder.rglob(name)) if folder.is_dir() else []
                if hits:
                    scene = dataclasses.replace(scene, source=dataclasses.replace(scene.source, path=hits[0]))
                    break
        scenes.append(scene)
    return dataclasses.replace(scene_list, scenes=tuple(scenes))


def _check_media(timeline_path: Path, scene_list: SceneList) -> None:
    offline = [s for s in scene_list.scenes if s.offline]
    if offline:
        listed = "; ".join(f"clip {s.name!r} -> {s.source.path}" for s in offline[:5])
        more = f" (and {len(offline) - 5} more)" if len(offline) > 5 else ""
        raise OfflineMediaError(
            f"{timeline_path}: {len(offline)} clip(s) have offline media: {listed}{more}; "
            "relink them in the editor or pass --relink FOLDER to search for the files"
        )


class _ProgressPrinter:
    """Per-scene lines on stderr, for in-process events and for the service's polled status."""

    def __init__(self) -> None:
        self.last_stage = ""

    def __call__(self, event) -> None:
        if isinstance(event, ServiceProgress):
            if (
                event.stage
                and event.stage != self.last_stage
                and event.stage.endswith((": features", ": done"))
            ):
                print(
                    event.stage.replace(": features", ": reading pictures...").replace(
                        ": done", ": cue ready"
                    ),
                    file=sys.stderr,
                    flush=True,
                )
            self.last_stage = event.stage
        else:
            _print_event(event)


def _print_event(event) -> None:
    if event.stage == "features":
        print(
            f"[{event.scene_position}/{event.scene_count}] {event.scene_name}: reading pictures...",
            file=sys.stderr,
            flush=True,
        )
    elif event.stage == "done":
        print(
            f"[{event.scene_position}/{event.scene_count}] {event.scene_name}: cue ready "
            f"({event.elapsed_s:.1f} s elapsed)",
            file=sys.stderr,
            flush=True,
        )


def cmd_scenes(args: argparse.Namespace) -> int:
    _, scene_list = _load_scenes(args)
    doc = scenes_to_json(scene_list)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"track {doc['track']!r} at {doc['rate']:g} fps, {doc['duration_s']:.2f} s")
    for s in doc["scenes"]:
        where = s["source"]["url"] if s["source"] else "(no media)"
        print(
            f"{s['index'] + 1:3d}  {s['record_start_s']:9.3f} - {s['record_end_s']:9.3f}  {s['name']}  {where}"
        )
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    timeline, scene_list = _load_scenes(args)
    out_path = args.output or default_output_path(args.timeline)
    if out_path.exists() and not args.force:
        raise EditorInputError(f"{out_path}: already exists; pass --force to replace it or choose -o")
    scene_list = _relink(scene_list, args.relink)
    _check_media(args.timeline, scene_list)
    if not scene_list.scenes:
        raise EditorInputError(f"{args.timeline}: the chosen video track has no clips to score")
    if args.in_process:
        cue_dir = args.cue_dir or out_path.with_name(f"{out_path.stem.replace('.', '_')}_cues")
    else:  # the service writes only inside its cue root: a folder per timeline there
        cue_dir = args.cue_dir or Path(f"{out_path.stem.replace('.', '_')}_cues")
    request = ScoreRequest(
        scenes=tuple(to_engine_scene(s, prompt=args.prompt) for s in scene_list.scenes),
        cue_dir=str(cue_dir),
        preset=args.preset,
        seed=args.seed,
        prompt=args.prompt,
        score_name=args.timeline.stem,
    )
    print(
        f"scoring {len(request.scenes)} scene(s) of {args.timeline.name} with preset '{args.preset}'",
        file=sys.stderr,
    )
    engine = InProcessEngine() if args.in_process else ServiceEngine()
    result = engine.score(request, progress=_ProgressPrinter())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    scored = add_score_track(timeline, scene_list.scenes, result.cues)
    written = write_timeline_atomic(scored, out_path, input_path=args.timeline, force=args.force)
    folder = Path(result.cues[0].wav_path).parent if result.cues else cue_dir
    print(f"wrote {written} ({len(result.cues)} cue(s) in {folder})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except (EditorInputError, EngineInputError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
