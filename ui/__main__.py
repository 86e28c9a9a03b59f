"""`python -m ui [TIMELINE] [--screenshot PNG]`: the panel as a window (what `vm-editor panel` runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vm-editor panel")
    parser.add_argument("timeline", type=Path, nargs="?")
    parser.add_argument("--screenshot", type=Path, default=None, help="render once, save a PNG, exit")
    args = parser.parse_args(argv)
    from ui.panel import run_panel

    return run_panel(args.timeline, args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
