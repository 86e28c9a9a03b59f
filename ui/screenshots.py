"""`make screenshots`: the panel's main states as PNGs under docs/, from a real engine and footage.

States: the timeline just opened (stills and rhythm from the engine), scoring in progress, all
cues scored (waveforms), a second take of one cue, and an error banner.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from engine.in_process import InProcessEngine
from ui.panel import ScorePanel
from vm_editor.demo import bikes_path, build_demo_timeline
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel


def _pump(app: QApplication, until, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    import opentimelineio as otio

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        media = bikes_path()
        duration, cuts = InProcessEngine().media_cuts(str(media))
        timeline = root / "bikes.otio"
        otio.adapters.write_to_file(build_demo_timeline(media, duration, cuts, 25.0), str(timeline))
        state = root / "state"
        engine = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--state-dir",
                str(state),
                "--cue-root",
                str(root / "cues"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            json.loads(engine.stdout.readline())
            model = PanelModel(ServiceEngine(state, start=False))
            panel = ScorePanel(model)
            panel.show()
            panel.open_timeline(timeline)
            panel.connect_engine()
            _pump(
                app,
                lambda: (
                    model.rows
                    and all(r.thumbnail for p, r in enumerate(model.rows) if model.preview_media(p))
                ),
            )
            panel.grab().save(str(args.out / "1-opened.png"))
            panel.score_all()
            _pump(app, lambda: any(r.takes for r in model.rows) and model.jobs)
            panel.grab().save(str(args.out / "2-scoring.png"))
            _pump(app, lambda: not model.jobs)
            panel.grab().save(str(args.out / "3-scored.png"))
            panel.table.selectRow(1)
            panel.regenerate_selected()
            _pump(app, lambda: not model.jobs)
            panel.grab().save(str(args.out / "4-second-take.png"))
            panel.open_timeline(root / "missing.otio")
            _pump(app, lambda: panel.banner.isVisible())
            panel.grab().save(str(args.out / "5-error.png"))
        finally:
            engine.terminate()
            engine.wait(timeout=30)
    print(f"screenshots in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
