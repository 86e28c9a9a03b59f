"""`vm-engine`: the engine's command line (DESIGN.md §7). A thin layer over engine functions."""

from __future__ import annotations

import argparse
import logging
import sys

from engine.errors import EngineInputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vm-engine", description="VidMusician engine")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_subparsers(dest="command", required=True)
    return parser


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
