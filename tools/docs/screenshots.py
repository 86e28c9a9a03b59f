"""`make screenshots`: the panel's main states as PNGs under docs/, from a real engine and footage.

States: the timeline just opened (stills and rhythm from the engine), scoring in progress, all
cues scored (waveforms), a second take of one cue, and an error banner; then (issue 27, no
scoring needed, `--only controls` makes just these) a cut whose media moved, before and after
Relink…, and a cut with a title, a dissolve and a speed change drawn on the strip.

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
from vm_editor import session
from vm_editor.demo import bikes_path, build_demo_timeline
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel, PanelOptions
from vm_editor.score_options import ScoreOptions


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


def _bikes_cut(media_url: str, duration: float, cuts: list[float], rate: float):
    """The demo's cut of bikes.mp4 with its media at `media_url` (which may not exist)."""
    timeline = build_demo_timeline(bikes_path(), duration, cuts, rate)
    for clip in timeline.find_clips():
        clip.media_reference.target_url = media_url
    return timeline


def _controls(app: QApplication, root: Path, out: Path) -> None:
    """Relink… before and after, and titles / a dissolve / a speed change on the strip."""
    import opentimelineio as otio

    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    media = bikes_path()
    engine = InProcessEngine()
    duration, cuts = engine.media_cuts(str(media))
    footage = root / "footage" / "day 1"
    footage.mkdir(parents=True)
    shutil.copy(media, footage / media.name)
    moved = root / "moved.otio"
    gone = (root / "old drive" / media.name).as_uri()  # where the cut says the media was
    otio.adapters.write_to_file(_bikes_cut(gone, duration, cuts, 25.0), str(moved))
    panel = ScorePanel(PanelModel(engine, PanelOptions(cues="per-clip")))
    panel.resize(1280, 600)
    panel.show()
    panel.open_timeline(moved)
    panel.connect_engine()
    _pump(app, lambda: panel.banner.isVisible(), 60)
    _shoot(app, panel, out / "6-offline.png")
    panel.relink_to(root / "footage")
    strip = panel.cut_view.strip
    _pump(app, lambda: all(s.thumbnail for s in strip.shots() if s.media) and strip.shots(), 300)
    _shoot(app, panel, out / "7-relinked.png")

    cut = build_demo_timeline(media, duration, cuts, 25.0)
    v1 = cut.tracks[0]
    shots = list(v1)
    v1[:] = []  # the shots in reverse order: every join is a visible cut (a dissolve between
    for shot in reversed(shots):  # two pieces that follow on in the file would show nothing)
        v1.append(shot)
    dissolve = otio.schema.Transition(
        name="dissolve",
        in_offset=rt(10, 25.0),
        out_offset=rt(10, 25.0),
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
    )
    v1.insert(2, dissolve)  # between the second and third shots (the first is 8 frames)
    v1[-1].effects.append(otio.schema.LinearTimeWarp(time_scalar=0.5))  # the last shot at 50 %
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(otio.schema.Gap(source_range=tr(rt(0, 25.0), rt(12, 25.0))))
    v2.append(
        otio.schema.Clip(
            name="Main title",
            media_reference=otio.schema.GeneratorReference(generator_kind="title"),
            source_range=tr(rt(0, 25.0), rt(50, 25.0)),
        )
    )
    cut.tracks.append(v2)
    marked = root / "titles.otio"
    otio.adapters.write_to_file(cut, str(marked))
    panel.open_timeline(marked)
    _pump(app, lambda: all(s.thumbnail for s in strip.shots() if s.media) and strip.shots(), 300)
    _shoot(app, panel, out / "8-titles-dissolve-speed.png")

    # Conform…: the cut scored per clip, then recut (its second shot trimmed by 6 frames, its
    # last shot deleted) and conformed from the scored cut, the report on the status line
    scored_cut = root / "cut.otio"
    otio.adapters.write_to_file(build_demo_timeline(media, duration, cuts, 25.0), str(scored_cut))
    old = root / "cut.scored.otio"
    session.score_timeline(scored_cut, ScoreOptions(cues="per-clip"), engine, output=old)
    recut = otio.adapters.read_from_file(str(scored_cut))
    shots = [c for c in recut.tracks[0] if isinstance(c, otio.schema.Clip)]
    trimmed = shots[1].source_range
    shots[1].source_range = tr(trimmed.start_time, trimmed.duration - rt(6, 25.0))
    recut.tracks[0].remove(shots[-1])
    new = root / "recut.otio"
    otio.adapters.write_to_file(recut, str(new))
    panel.conform_timelines(old, new, background=False)
    _pump(app, lambda: all(s.thumbnail for s in strip.shots() if s.media) and strip.shots(), 300)
    _shoot(app, panel, out / "9-conform.png")
    panel.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m tools.docs.screenshots")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--only", choices=("controls",), help="only the relink and strip pictures")
    args = parser.parse_args(argv)
    rerun = _real_window(argv, "tools.docs.screenshots")
    if rerun is not None:
        return rerun
    args.out.mkdir(parents=True, exist_ok=True)
    import opentimelineio as otio

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        _controls(app, Path(tmp) / "controls", args.out)
    if args.only == "controls":
        print(f"screenshots in {args.out.resolve()}")
        return 0
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
