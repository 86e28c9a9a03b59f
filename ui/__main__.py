"""`python -m ui [TIMELINE] [options]`: the panel as a window (what `vm-editor panel` runs).

The options are `vm-editor panel`'s, parsed by the CLI's own parser (`vm_editor.cli.run_panel_command`):
every option of `vm-editor score` (`vm_editor.score_options.ScoreOptions`), --screenshot PNG, --service. The engine runs
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
    from vm_editor.score_options import ScoreOptions, check_text

    options = ScoreOptions.from_args(args)  # the score's options, refused as `score` refuses them
    check_text(options)
    engine = ServiceEngine() if args.service else None
    return run_panel(args.timeline, args.screenshot, engine, options)


if __name__ == "__main__":
    sys.exit(main())
