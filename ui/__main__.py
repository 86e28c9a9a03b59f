"""`python -m ui [TIMELINE] [options]`: the panel as a window (what `vm-editor panel` runs).

The options are `vm-editor panel`'s, parsed by the CLI's own parser (`vm_editor.cli.run_panel_command`):
--rate, --track, --project, --relink, --cues, --preset, --seed, --prompt, --mood, --energy, --guidance,
--allow-offline, --crossfade, --no-hits, --stems, --screenshot PNG, --service. The engine runs
in-process unless `--service` is given.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from vm_editor.cli import run_panel_command

    return run_panel_command(list(sys.argv[1:] if argv is None else argv), _run)


def _run(args) -> int:
    from ui.panel import run_panel
    from vm_editor.engine_client import ServiceEngine
    from vm_editor.panel_model import PanelOptions

    engine = ServiceEngine() if args.service else None
    return run_panel(args.timeline, args.screenshot, engine, PanelOptions.from_args(args))


if __name__ == "__main__":
    sys.exit(main())
