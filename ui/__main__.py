"""`python -m ui [TIMELINE] [--screenshot PNG] [--no-hits] [--stems] [--service]`: the panel as a
window (what `vm-editor panel` runs). The engine runs in-process unless `--service` is given."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vm-editor panel")
    parser.add_argument("timeline", type=Path, nargs="?")
    parser.add_argument("--screenshot", type=Path, default=None, help="render once, save a PNG, exit")
    parser.add_argument("--no-hits", action="store_true", help="no forced accents at cuts and markers")
    parser.add_argument("--stems", action="store_true", help="also one WAV per stream beside each cue")
    parser.add_argument("--service", action="store_true", help="score through the local engine service")
    args = parser.parse_args(argv)
    from ui.panel import run_panel
    from vm_editor.engine_client import ServiceEngine
    from vm_editor.panel_model import PanelOptions

    engine = ServiceEngine() if args.service else None
    options = PanelOptions(hits=not args.no_hits, stems=args.stems)
    return run_panel(args.timeline, args.screenshot, engine, options)


if __name__ == "__main__":
    sys.exit(main())
