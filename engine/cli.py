"""`vm-engine`: the engine's command line (DESIGN.md §7). A thin layer over engine functions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.errors import run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vm-engine", description="VidMusician engine")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the local engine service on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve.add_argument("--cue-root", type=Path, default=None, help="the only folder cues are written to")
    serve.add_argument("--state-dir", type=Path, default=None, help="jobs database and runtime file")
    serve.set_defaults(func=cmd_serve)
    stop = sub.add_parser("stop", help="stop the running engine service (its jobs resume on the next start)")
    stop.add_argument("--state-dir", type=Path, default=None)
    stop.set_defaults(func=cmd_stop)
    _add_feature_commands(sub)
    return parser


def cmd_stop(args: argparse.Namespace) -> int:
    from engine.service.runtime import state_dir, stop

    folder = args.state_dir or state_dir()
    stopped = stop(folder)
    if stopped is None:
        print(f"no engine was running for {folder}")
    else:
        how = "killed (it did not stop within 20 s)" if stopped["killed"] else "stopped"
        print(
            f"{how} the engine pid {stopped['pid']} at {stopped['url'] or '(not yet serving)'} for {folder}"
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from engine.service.runtime import serve

    return serve(port=args.port, cue_root=args.cue_root, folder=args.state_dir)


def _add_feature_commands(sub: argparse._SubParsersAction) -> None:
    rhythm = sub.add_parser("rhythm", help="print a media file's 50 Hz rhythm curve and hard cuts")
    rhythm.add_argument("media", help="video file (or image-sequence pattern such as shot.%%04d.png)")
    rhythm.add_argument("--start", type=float, default=None, help="range start, seconds (default 0)")
    rhythm.add_argument("--end", type=float, default=None, help="range end, seconds (default: media end)")
    rhythm.add_argument("--preset", default="tiny")
    rhythm.add_argument("--cache-dir", default=None, help="feature cache folder (default: user cache)")
    rhythm.add_argument("--json", action="store_true", help="print the JSON document (the only output form)")
    rhythm.set_defaults(func=cmd_rhythm)
    export = sub.add_parser("export-encoders", help="export a preset's image tower to ONNX, check parity")
    export.add_argument("--preset", required=True)
    export.add_argument("--out", default=None, help="folder (default: the preset's encoder folder)")
    export.add_argument(
        "--random-init", type=int, default=None, metavar="SEED", help="random weights (tests, benchmarks)"
    )
    export.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also write the int8 CPU graph (default: when the preset's cpu_precision is int8)",
    )
    export.set_defaults(func=cmd_export_encoders)


def cmd_rhythm(args: argparse.Namespace) -> int:
    from engine.features import rhythm_for_media

    doc = rhythm_for_media(args.media, args.start, args.end, args.preset, cache_dir=args.cache_dir)
    print(json.dumps(doc))
    return 0


def cmd_export_encoders(args: argparse.Namespace) -> int:
    from engine.encoders import export_encoders

    meta = export_encoders(args.preset, args.out, random_init_seed=args.random_init, int8=args.int8)
    print(json.dumps(meta))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
