"""`make screenshots`: the panel's main states as PNGs under docs/, from a real engine and footage.

States: the timeline just opened (stills and rhythm from the engine), scoring in progress, all
cues scored (waveforms), a second take of one cue, and an error banner.

The pictures are of a real window (Qt's xcb platform), read back from the X server; with no
DISPLAY the script runs itself again under `xvfb-run` (Debian: `apt-get install xvfb`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from engine.in_process import InProcessEngine
from ui.panel import ScorePanel
from vm_editor.demo import bikes_path, build_demo_timeline
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel, PanelOptions


def _pump(app: QApplication, until, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def _shoot(app: QApplication, window: QWidget, path: Path) -> None:
    """What the X server shows of the window (the widget's own rendering if it cannot say)."""
    window.raise_()
    for _ in range(5):
        app.processEvents()
        time.sleep(0.05)
    shot = window.screen().grabWindow(window.winId())
    if shot.isNull() or shot.size() != window.size():
        shot = QPixmap(window.grab())
    shot.save(str(path))
    _shrink(path)


def _shrink(path: Path) -> None:
    """A 256-colour PNG: the stills dither a little, the file stays well under 200 kB."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    small.save(path, optimize=True)


def _real_window(argv: list[str], module: str = "tools.docs.screenshots") -> int | None:
    """Run `module` again under Xvfb when there is no display; None when this process has one."""
    if os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        return None
    if shutil.which("xvfb-run") is None:
        print(
            "error: no DISPLAY and no xvfb-run; install xvfb (Debian/Ubuntu: apt-get install xvfb)",
            file=sys.stderr,
        )
        return 2
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    command = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1600x1000x24",
        sys.executable,
        "-m",
        module,
        *argv,
    ]
    return subprocess.call(command, env=env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m tools.docs.screenshots")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    rerun = _real_window(argv)
    if rerun is not None:
        return rerun
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
            # per-clip cues (`--cues per-clip`): the auto plan hears bikes.mp4 as one cue, and
            # the pictures should show cues over shots, one merged over two
            model = PanelModel(ServiceEngine(state, start=False), PanelOptions(cues="per-clip"))
            panel = ScorePanel(model)
            panel.resize(1280, 600)
            panel.show()
            panel.open_timeline(timeline)
            panel.connect_engine()
            strip = panel.cut_view.strip
            _pump(
                app,
                lambda: (
                    model.rows
                    and all(r.thumbnail for p, r in enumerate(model.rows) if model.preview_media(p))
                    and all(s.thumbnail and s.rhythm for s in strip.shots() if s.media)
                ),
            )
            panel.cut_view.select_cue(1)
            _shoot(app, panel, args.out / "1-opened.png")
            panel.cut_view.select_cue(2, extend=True)
            panel.merge_selected()  # shots 2 and 3 under one cue, as M does
            panel.cut_view.select_cue(1)
            panel.score_all()
            _pump(app, lambda: any(r.takes for r in model.rows) and model.jobs)
            _shoot(app, panel, args.out / "2-scoring.png")
            _pump(app, lambda: not model.jobs)
            _shoot(app, panel, args.out / "3-scored.png")
            panel.cut_view.select_cue(2)
            panel.regenerate_selected()
            _pump(app, lambda: not model.jobs)
            _shoot(app, panel, args.out / "4-second-take.png")
            panel.open_timeline(root / "missing.otio")
            _pump(app, lambda: panel.banner.isVisible())
            _shoot(app, panel, args.out / "5-error.png")
        finally:
            engine.terminate()
            engine.wait(timeout=30)
    print(f"screenshots in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
