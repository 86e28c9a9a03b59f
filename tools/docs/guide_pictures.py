"""`make guide-pictures`: the user guide's pictures, one pair per editor round trip.

For each flow of `tools.docs.guide_flows` (Resolve, Hiero, Premiere, Final Cut, Avid, Kdenlive): a
short cut of real footage (bikes.mp4) in that editor's exchange format, scored for real with
`vm-editor score … --in-process` (tiny preset), then

- `<key>-panel.png`: the VidMusician panel, a real window (Qt's xcb platform; under `xvfb-run`
  when there is no DISPLAY), opened on the scored file: its shots, rhythm, cues and waveforms;
- `<key>-flow.png`: the round trip as boxes (`tools.docs.guide_diagram`), with the files that run wrote.

The editors themselves are not run or drawn: the exports are written by the OTIO adapters (and
our FCPXML text, and Hiero's sequence description through `host_bridge`) as those editors'
files are read by `vm-editor`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import soundfile
from PySide6.QtWidgets import QApplication

from engine.in_process import InProcessEngine
from tools.docs.guide_diagram import EDITOR, FILE, OURS, Box, draw
from tools.docs.guide_flows import FLOWS, Flow, write_cut
from tools.docs.screenshots import _pump, _real_window, _shoot, _shrink
from ui.panel import ScorePanel
from vm_editor import cli
from vm_editor.demo import bikes_path
from vm_editor.outputs import cue_folder_for
from vm_editor.panel_model import PanelModel
from vm_editor.timeline_io import default_output_path

SEED = 7
CUES = "per-clip"  # one cue per shot: several cues in a short picture


def score_command(flow: Flow, cut: Path) -> list[str]:
    """The `vm-editor` arguments the picture's run used (and its caption quotes)."""
    return ["score", str(cut), "--cues", CUES, "--seed", str(SEED), *flow.rate_option, "--in-process"]


def _wavs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.wav") if "_stem_" not in p.name)


def _diagram(flow: Flow, cut: Path, scored: Path, wavs: list[Path], path: Path) -> None:
    lengths = ", ".join(f"{soundfile.info(str(w)).duration:.1f}" for w in wavs)
    first = wavs[0].name
    rates = "/".join(sorted({f"{soundfile.info(str(w)).samplerate / 1000:g}" for w in wavs}))
    files = (
        f"{scored.name}\n{wavs[0].parent.name}/: {len(wavs)} WAVs ({rates} kHz), the first:\n{first}\n"
        "(next to the scored timeline; --cue-dir DIR puts them elsewhere)"
    )
    boxes = [
        Box(f"1. {flow.editor}", flow.export, EDITOR),
        Box("exchange file", f"{cut.name}\n({len(flow.shots)} shots of bikes.mp4)", FILE, weight=0.8),
        Box(
            "2. score",
            " ".join(["vm-editor", *score_command(flow, Path(cut.name))]) + f"\n({flow.runner})",
            OURS,
            weight=1.2,
        ),
        Box("written", files, FILE, weight=1.7),
        Box(f"3. {flow.editor}", flow.back, EDITOR),
    ]
    caption = (
        f"One real run (tiny preset) wrote {scored.name} and {len(wavs)} WAVs of "
        f"{lengths} s: each cue plus a tail handle for crossfades."
    )
    draw(boxes, caption, path)
    _shrink(path)


def _photograph(app: QApplication, engine: InProcessEngine, scored: Path, path: Path) -> None:
    model = PanelModel(engine)
    panel = ScorePanel(model)
    panel.resize(1280, 560)
    panel.show()
    panel.open_timeline(scored, ask=False, background=False)
    if model.banner_text():
        raise SystemExit(f"error: the panel could not open {scored.name}: {model.banner_text()}")
    panel.connect_engine()
    strip = panel.cut_view.strip
    _pump(
        app,
        lambda: (
            model.rows
            and model.engine_status
            and all(r.takes for r in model.rows)
            and all(s.thumbnail and s.rhythm for s in strip.shots() if s.media)
        ),
        timeout_s=180,
    )
    panel.cut_view.select_cue(0)
    _shoot(app, panel, path)
    panel.close()
    panel.deleteLater()
    app.processEvents()


def make_pictures(out: Path, only: list[str] | None = None) -> list[Path]:
    """Score one cut per flow in a scratch folder and write its two PNGs under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    engine = InProcessEngine()
    media = bikes_path()
    duration_s, cuts_s = engine.media_cuts(str(media))
    written = []
    with tempfile.TemporaryDirectory(prefix="vm-guide-") as tmp:
        for flow in FLOWS:
            if only and flow.key not in only:
                continue
            started = time.monotonic()
            folder = Path(tmp) / flow.key
            folder.mkdir()
            cut = write_cut(flow, media, duration_s, cuts_s, folder)
            if cli.main(score_command(flow, cut)) != 0:
                raise SystemExit(f"error: scoring {cut.name} failed (see above)")
            scored = default_output_path(cut)
            wavs = _wavs(cue_folder_for(scored))
            if not wavs:
                raise SystemExit(f"error: {scored.name} was written without WAVs")
            _diagram(flow, cut, scored, wavs, out / f"{flow.key}-flow.png")
            _photograph(app, engine, scored, out / f"{flow.key}-panel.png")
            written += [out / f"{flow.key}-flow.png", out / f"{flow.key}-panel.png"]
            print(f"{flow.key}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m tools.docs.guide_pictures", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/guide"))
    parser.add_argument(
        "--only", action="append", choices=[f.key for f in FLOWS], help="one flow (repeatable)"
    )
    args = parser.parse_args(argv)
    rerun = _real_window(argv, "tools.docs.guide_pictures")
    if rerun is not None:
        return rerun
    for path in make_pictures(args.out, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
