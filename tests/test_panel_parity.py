"""One face for panel and CLI (issue 18): the panel opens a timeline as `vm-editor score` reads it
(the same cue plan, seeds, numbers, offline rule), reopens what the CLI wrote with its music and
takes, opens an EDL once it knows the rate, and exports the takes track as the CLI leaves it.

Real engine (the in-process one, tiny preset), real files (PyAV-made media, the shared editor
exports when present)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
from PySide6.QtWidgets import QLabel

from engine.in_process import InProcessEngine
from engine.pipeline import cue_seed
from tests.conftest import write_shots_video
from tests.timeline_builders import clip, gap, timeline_of, video_track
from ui.panel import ScorePanel
from vm_editor import cli, scoring
from vm_editor.engine_client import ServiceEngine
from vm_editor.panel_model import PanelModel, PanelOptions, RateNeeded
from vm_editor.timeline_io import read_timeline
from vm_editor.writeback import cue_metadata, score_track

RATE = 25


def _cut(tmp_path: Path, media: Path, name: str = "cut.otio") -> Path:
    """Three shots, the first alone after a second of black: two cues in any plan."""
    tl = timeline_of(
        video_track(
            clip("wide", media, 0, 30, RATE, 75),
            gap(RATE, RATE),
            clip("close", media, 32, 22, RATE, 75),
            clip("insert", media, 55, 20, RATE, 75),
        ),
        rate=RATE,
    )
    path = tmp_path / name
    otio.adapters.write_to_file(tl, str(path))
    return path


def _spans(scenes) -> list[tuple[int, int]]:
    return [
        (round(s["record_start_s"] * RATE), round(s["record_end_s"] * RATE))
        if isinstance(s, dict)
        # a Scene
        else (int(s.record_range.start_time.value), int(s.record_range.end_time_exclusive().value))
        for s in scenes
    ]


def _open(qtbot, panel: ScorePanel, path: Path) -> None:
    """`open_timeline`, waited for: an auto plan is read off the GUI thread."""
    generation = panel.model.generation
    panel.open_timeline(path)
    qtbot.waitUntil(lambda: panel.model.generation > generation or panel.banner.isVisible(), timeout=120_000)


def _cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert cli.main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_the_panel_takes_the_cli_options_it_opens_with():
    args = cli.panel_args(["cut.edl", "--rate", "25", "--guidance", "4", "--preset", "tiny", "--cues", "one"])
    options = PanelOptions.from_args(args)
    assert (options.rate, options.cues, options.guidance, options.preset) == (25.0, "one", 4.0, "tiny")
    args = cli.panel_args(
        ["c.otio", "--merge", "0-1", "--split-at-markers", "--in", "10", "--cue-dir", "/tmp/x"]
    )
    options = PanelOptions.from_args(args)
    assert (options.merge, options.split_at_markers, options.record_in) == (("0-1",), True, "10")
    assert PanelModel(None, options).cue_folder() == Path("/tmp/x")
    with pytest.raises(SystemExit):
        cli.panel_args(["cut.edl", "--cues", "per-shot"])  # the same choices as score's


@pytest.mark.parametrize(
    "plan",
    [
        ["--cues", "per-clip"],
        ["--cues", "per-clip", "--merge", "1-2"],
        ["--cues", "one", "--in", "10", "--out", "70"],
    ],
)
def test_the_panel_plans_as_scenes_does(tmp_path, capsys, shots_video, plan):
    path = _cut(tmp_path, shots_video)
    doc = _cli_json(capsys, "scenes", str(path), *plan, "--json")
    model = PanelModel(
        ServiceEngine(tmp_path / "none", start=False),
        PanelOptions.from_args(cli.panel_args([str(path), *plan])),
    )
    model.open(path)
    assert _spans(r.scene for r in model.rows) == _spans(doc["scenes"]), plan
    assert [r.scene.name for r in model.rows] == [s["name"] for s in doc["scenes"]]


def test_merging_in_the_panel_is_merge_on_the_command_line(tmp_path, capsys, shots_video):
    path = _cut(tmp_path, shots_video)
    doc = _cli_json(capsys, "scenes", str(path), "--cues", "per-clip", "--merge", "1-2", "--json")
    model = PanelModel(None, PanelOptions(cues="per-clip", seed=4))
    model.open(path)
    model.merge([1, 2])
    assert _spans(r.scene for r in model.rows) == _spans(doc["scenes"])
    assert [r.scene.name for r in model.rows] == [s["name"] for s in doc["scenes"]]
    cli_list = scoring.plan_cues(read_timeline(path), mode="per-clip", timeline_path=path, merge=["1-2"])
    request = scoring.build_request(cli_list, cue_dir=str(tmp_path), seed=4)
    assert [r.settings.seed for r in model.rows] == [s.seed for s in request.scenes]


def test_offline_media_is_refused_naming_the_cli_clips(qtbot, tmp_path, capsys, shots_video):
    """The same clips refused as the CLI refuses them; the fix is the panel's own (its Relink…
    button, its "score offline clips without pictures" box), not the CLI's flags (issue 27)."""
    path = _cut(tmp_path, tmp_path / "gone.mp4")
    assert cli.main(["score", str(path), "--cues", "per-clip", "--in-process"]) == 2
    cli_line = capsys.readouterr().err.strip().splitlines()[-1]
    cli_clips = cli_line.split("have offline media: ", 1)[1].split("; relink them", 1)[0]
    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    panel.open_timeline(path)
    panel.score_all()
    assert not panel.model.jobs
    assert panel.banner.text().startswith(f"3 clip(s) have offline media: {cli_clips}. Click Relink…")

    panel.allow_offline.setChecked(True)  # --allow-offline: scored without pictures, with the warning
    job = panel.model.score_all()
    assert job is not None and panel.banner.text().startswith("warning: 3 clip(s) have offline media")
    panel.model.cancel_all()


def test_guidance_is_called_guidance(qtbot, tmp_path):
    panel = ScorePanel(PanelModel(ServiceEngine(tmp_path / "none", start=False)))
    qtbot.addWidget(panel)
    labels = {w.text() for w in panel.findChildren(QLabel)}
    assert "Guidance" in labels and "Intensity" not in labels
    assert panel.guidance.specialValueText() == "preset default"


@pytest.mark.slow
def test_the_panel_opens_the_cli_plan_with_the_cli_seeds(qtbot, tmp_path, capsys):
    """auto (the default) needs the engine's shot embeddings: both front ends ask the real one."""
    media = write_shots_video(tmp_path / "long.mp4", [100, 110, 90], fps=RATE, seed=3)
    tl = timeline_of(
        video_track(
            clip("a", media, 0, 100, RATE, 300), gap(30, RATE), clip("b", media, 100, 200, RATE, 300)
        ),
        rate=RATE,
    )
    path = tmp_path / "long.otio"
    otio.adapters.write_to_file(tl, str(path))
    doc = _cli_json(capsys, "scenes", str(path), "--in-process", "--json")

    model = PanelModel(InProcessEngine(), PanelOptions(seed=11))
    model.open(path)
    assert _spans(r.scene for r in model.rows) == _spans(doc["scenes"]) and len(model.rows) >= 2
    assert [r.scene.index for r in model.rows] == [s["index"] for s in doc["scenes"]]
    assert [model.row_label(p)["number"] for p in range(len(model.rows))] == [
        str(s["index"]) for s in doc["scenes"]
    ]

    # the seeds the engine would use for the CLI's request (no per-cue seed: its own rule) and the
    # panel's request, for the same cut and --seed
    cli_list = scoring.plan_cues(read_timeline(path), timeline_path=path, engine=model.engine)
    request = scoring.build_request(cli_list, cue_dir=str(tmp_path), seed=11)
    cli_seeds = [cue_seed(request.seed, s) for s in request.scenes]
    job = model.score_all()
    panel_seeds = [cue_seed(job.request.seed, s) for s in job.request.scenes]
    assert panel_seeds == cli_seeds
    model.cancel_all()


@pytest.mark.slow
def test_a_scored_timeline_reopens_with_its_music_and_takes(qtbot, tmp_path, shots_video, capsys):
    """`vm-editor score` then `regenerate --cue 2` (real engine); the panel shows what they wrote:
    cues numbered as the CLI's, each with its music, cue 2 with both takes; its seeds are the
    CLI's; a new export keeps the takes track."""
    path = _cut(tmp_path, shots_video)
    cues = tmp_path / "cues"
    assert (
        cli.main(
            ["score", str(path), "--in-process", "--cues", "per-clip", "--seed", "5", "--cue-dir", str(cues)]
        )
        == 0
    )
    scored_path = tmp_path / "cut.scored.otio"
    assert cli.main(["regenerate", str(scored_path), "--cue", "2", "--in-process"]) == 0
    written = cue_metadata(read_timeline(scored_path), scored_path)
    assert sorted(written) == [0, 1, 2]
    assert Path(written[2]["wav_url"]).name.startswith("cut_cue002_take2_")  # --cue 2 is cue002

    # the panel opening the original cut with the same --seed asks for the CLI's first takes' seeds
    fresh = PanelModel(InProcessEngine(), PanelOptions(cues="per-clip", seed=5))
    fresh.open(path)
    first_takes = [written[0]["seed"], written[1]["seed"], written[2]["previous_takes"][0]["seed"]]
    assert [r.settings.seed for r in fresh.rows] == first_takes
    assert fresh.cue_folder() == tmp_path / "cut_scored_otio_cues"  # where `score` without --cue-dir writes

    panel = ScorePanel(PanelModel(InProcessEngine()))
    qtbot.addWidget(panel)
    panel.show()
    _open(qtbot, panel, scored_path)
    model = panel.model
    assert panel.banner.isHidden(), panel.banner.text()
    assert panel.table.rowCount() == 3
    assert [panel.table.verticalHeaderItem(p).text() for p in range(3)] == ["0", "1", "2"]
    assert [r.scene.index for r in model.rows] == [0, 1, 2]
    assert all(panel.table.cellWidget(p, 7).values for p in range(3)), "a scored cue shows no music"
    assert [len(r.takes) for r in model.rows] == [1, 1, 2]
    assert model.rows[2].cue.wav_path == str(Path(written[2]["wav_url"].removeprefix("file://")))
    assert [t.take for t in model.rows[2].takes] == [1, 2]
    panel.table.selectRow(2)
    assert panel.takes.count() == 2 and panel.takes.currentIndex() == 1
    assert "scored" in panel.status.text()
    assert model.cue_folder() == cues.resolve()  # a new take goes beside the old, as `regenerate`'s

    # back to take 1 (row 2 stays selected: a second selectRow may toggle it off, as Ctrl+click
    # does, when an earlier test's key click left Ctrl down), then export: take 2 goes to the
    # takes track
    assert model.selection == {2}
    panel.takes.setCurrentIndex(0)
    assert model.rows[2].cue.take == 1
    out = tmp_path / "again.otio"
    assert panel.export(out) == out
    again = otio.adapters.read_from_file(str(out))
    music = score_track(again)
    assert len(list(music.find_clips(shallow_search=True))) == 3  # replaced, not stacked
    assert len([t for t in again.tracks if t.kind == otio.schema.TrackKind.Audio]) == 2
    (shelved,) = score_track(again, takes=True).find_clips(shallow_search=True)
    assert not shelved.enabled and shelved.metadata["vidmusician"]["take"] == 2

    # what the panel wrote reopens as it was left, in OTIO and in Premiere's FCP7 XML
    xml = tmp_path / "again.xml"
    assert panel.export(xml) == xml
    for written_by_panel in (out, xml):
        reopened = PanelModel(InProcessEngine())
        reopened.open(written_by_panel)
        assert [r.scene.index for r in reopened.rows] == [0, 1, 2], written_by_panel
        assert [[t.take for t in r.takes] for r in reopened.rows] == [[1], [1], [2, 1]], written_by_panel
        assert reopened.rows[2].cue.take == 1 and reopened.music_peaks(2), written_by_panel


@pytest.mark.slow
def test_an_edl_opens_once_the_panel_knows_its_rate(qtbot, samples_dir, capsys):
    edl = samples_dir / "timelines" / "25fps.edl"
    if not edl.is_file():
        pytest.skip(f"{edl} not present")
    panel = ScorePanel(PanelModel(InProcessEngine()))
    qtbot.addWidget(panel)
    asked = []

    def ask(need: RateNeeded) -> float:
        asked.append(need)
        return 25.0

    panel.ask_rate = ask
    _open(qtbot, panel, edl)
    assert len(asked) == 1 and 25.0 in asked[0].choices and 24.0 not in asked[0].choices  # frame 24 seen
    assert panel.banner.isHidden() or "--rate" not in panel.banner.text(), panel.banner.text()
    doc = _cli_json(capsys, "scenes", str(edl), "--rate", "25", "--in-process", "--json")
    assert panel.model.rate == 25
    assert _spans(r.scene for r in panel.model.rows) == _spans(doc["scenes"])
    assert panel.table.rowCount() == len(doc["scenes"]) >= 1

    # `vm-editor panel --rate 25` opens it without asking
    with_rate = ScorePanel(PanelModel(InProcessEngine(), PanelOptions(rate=25.0)))
    qtbot.addWidget(with_rate)
    with_rate.ask_rate = lambda need: pytest.fail("asked for a rate that was given")
    _open(qtbot, with_rate, edl)
    assert with_rate.table.rowCount() == len(doc["scenes"])


def test_vm_editor_panel_takes_rate_for_an_edl(samples_dir, tmp_path):
    """The whole path: `vm-editor panel EDL --rate 25 …` reaches the panel (it was refused)."""
    edl = samples_dir / "timelines" / "25fps.edl"
    if not edl.is_file():
        pytest.skip(f"{edl} not present")
    png = tmp_path / "panel.png"
    command = [sys.executable, "-m", "vm_editor.cli", "panel", str(edl), "--rate", "25", "--cues", "per-clip"]
    result = subprocess.run([*command, "--screenshot", str(png)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and png.stat().st_size > 0, result.stderr
    bad = subprocess.run(command[:-2] + ["--cues", "per-shot"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--cues" in bad.stderr


def _sample_timelines() -> list[Path]:
    from tests.conftest import SAMPLES

    folder = SAMPLES / "timelines"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("timeline", _sample_timelines() or [None], ids=lambda p: p.name if p else "absent")
def test_real_exports_open_in_the_panel_as_scenes_reads_them(timeline, samples_dir, capsys):
    """Every editor export in ../shared/samples: the panel shows the cues `scenes` lists, or the
    same error line (per-clip: no engine needed)."""
    if timeline is None:
        pytest.skip("no real editor exports in ../shared/samples/timelines")
    model = PanelModel(None, PanelOptions(cues="per-clip"))
    rate = []
    if (choices := model.rate_choices(timeline)) is not None:
        rate = ["--rate", f"{choices[1]:g}"]
        model = PanelModel(None, PanelOptions(cues="per-clip", rate=choices[1]))
    capsys.readouterr()
    code = cli.main(["scenes", str(timeline), "--cues", "per-clip", *rate, "--json"])
    out, err = capsys.readouterr()
    if code != 0:
        with pytest.raises(Exception) as refused:
            model.open(timeline)
        assert f"error: {refused.value}" == err.strip().splitlines()[-1]
        return
    model.open(timeline)
    doc = json.loads(out)
    rows = [
        (
            round(r.scene.record_range.start_time.to_seconds(), 4),
            round(r.scene.record_range.end_time_exclusive().to_seconds(), 4),
        )
        for r in model.rows
    ]
    cli_rows = [(round(s["record_start_s"], 4), round(s["record_end_s"], 4)) for s in doc["scenes"]]
    assert rows == cli_rows
    assert [r.scene.name for r in model.rows] == [s["name"] for s in doc["scenes"]]
    assert model.rate == pytest.approx(doc["rate"])
