"""`vm-engine`: the engine's command line (DESIGN.md §7). A thin layer over engine functions."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine.errors import EngineInputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vm-engine", description="VidMusician engine")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the local engine service on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve.add_argument("--cue-root", type=Path, default=None, help="the only folder cues are written to")
    serve.add_argument("--state-dir", type=Path, default=None, help="jobs database and runtime file")
    serve.set_defaults(func=cmd_serve)
    return parser


def cmd_serve(args: argparse.Namespace) -> int:
    from engine.service.runtime import serve

    return serve(port=args.port, cue_root=args.cue_root, folder=args.state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except EngineInputError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
