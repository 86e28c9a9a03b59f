"""The promises under faults, round two (issue 28): one section per family of failures.

Each case used to crash, hang, print a traceback, kill the wrong process or score silently
wrong music. They run the real CLI (or the real module where the fault is a race) and hold the
error contract of tests/test_cli_errors.py: exit 2, one `error:` line naming the file and the fix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.test_cli_errors import assert_one_error_line, run_cli
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.input_guard import MAX_TEXT_DEPTH
from vm_editor.timeline_io import default_output_path
from vm_editor.watch import FolderWatch


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def write_otioz(path: Path, content: str | None, member: str = "content.otio") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("version.txt", "1.0.0")
        if content is not None:
            bundle.writestr(member, content)
    return path


def cut_document(name: str = "Opening") -> str:
    tl = timeline_of(video_track(clip(name, Path("/nowhere/x.mov"), 0, 25, 25, 75)))
    return otio.adapters.write_to_string(tl)


# -- 1. watch: every file is untrusted; the watch goes on ----------------------------------------


class Scorer:
    """A stand-in for `score` that records calls, writes the scored file, or fails as told."""

    def __init__(self, faults: dict[str, object] | None = None):
        self.calls: list[str] = []
        self.faults = faults or {}

    def __call__(self, path: Path) -> bool:
        self.calls.append(path.name)
        fault = self.faults.get(path.name)
        if callable(fault):
            fault(path)
        elif isinstance(fault, BaseException):
            raise fault
        default_output_path(path).write_text(path.read_text())
        return True


def drop(folder: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        (folder / name).write_text(cut_document(name))
        paths.append(folder / name)
    return paths


UNEXPECTED = [
    RuntimeError("boom"),
    TypeError("'NoneType' object is not subscriptable"),
    RecursionError("maximum recursion depth exceeded"),
    MemoryError(),
    ValueError(""),
    OSError(28, "No space left on device"),
    KeyError("rate"),
]


@pytest.mark.parametrize("fault", UNEXPECTED, ids=[type(e).__name__ for e in UNEXPECTED])
def test_watch_logs_one_line_for_an_unexpected_error_and_scores_the_rest(tmp_path, fault):
    drop(tmp_path, "a.otio", "b.otio", "c.otio")
    lines: list[str] = []
    scorer = Scorer({"b.otio": fault})
    done = FolderWatch(tmp_path, scorer, log=lines.append).one_pass(settle_s=0.01)
    assert scorer.calls == ["a.otio", "b.otio", "c.otio"]
    assert [p.name for p in done] == ["a.otio", "c.otio"]
    failed = [line for line in lines if line.startswith("failed:")]
    assert len(failed) == 1 and failed[0].startswith("failed: b.otio: internal error (")
    assert "\n" not in failed[0]


def test_watch_logs_a_user_error_with_its_own_message(tmp_path):
    from vm_editor.errors import EditorInputError

    drop(tmp_path, "a.otio", "b.otio")
    lines: list[str] = []
    fault = EditorInputError("b.otio: clip 'x' is offline; relink it")
    FolderWatch(tmp_path, Scorer({"a.otio": fault}), log=lines.append).one_pass(settle_s=0.01)
    assert "failed: a.otio: b.otio: clip 'x' is offline; relink it; export it again to retry" in lines
    assert (tmp_path / "b.scored.otio").is_file()


@pytest.mark.parametrize("victim", ["itself", "a later file", "every file"])
def test_a_file_deleted_mid_pass_does_not_stop_the_watch(tmp_path, victim):
    paths = drop(tmp_path, "a.otio", "b.otio", "c.otio")

    def delete(path: Path) -> None:
        targets = {"itself": [path], "a later file": [paths[2]], "every file": paths}[victim]
        for target in targets:
            target.unlink(missing_ok=True)
        if victim != "a later file":
            raise FileNotFoundError(2, "No such file or directory", str(path))

    lines: list[str] = []
    watch = FolderWatch(tmp_path, Scorer({"a.otio": delete}), log=lines.append)
    watch.one_pass(settle_s=0.01)
    assert all("internal error" not in line for line in lines), lines
    watch.one_pass()  # the next pass over what is left works too
    if victim == "a later file":
        assert (tmp_path / "b.scored.otio").is_file() and not (tmp_path / "c.scored.otio").exists()


def test_the_watched_folder_going_away_is_said_once_and_watched_on(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    drop(folder, "a.otio")
    lines: list[str] = []
    watch = FolderWatch(folder, Scorer(), log=lines.append)
    watch.one_pass()
    (folder / "a.otio").unlink()
    folder.rmdir()  # an unmounted drive
    watch.one_pass()
    watch.one_pass()
    assert len([line for line in lines if line.startswith("cannot read")]) == 1
    folder.mkdir()
    drop(folder, "b.otio")
    watch.one_pass()
    watch.one_pass()
    assert (folder / "b.scored.otio").is_file()


def test_a_file_vanishing_between_listing_and_stat_is_skipped(tmp_path, monkeypatch):
    drop(tmp_path, "a.otio", "b.otio")
    real_is_due = __import__("vm_editor.watch", fromlist=["is_due"]).is_due

    def vanish_then_ask(path: Path) -> bool:
        if path.name == "a.otio":
            path.unlink()
        return real_is_due(path)

    monkeypatch.setattr("vm_editor.watch.is_due", vanish_then_ask)
    lines: list[str] = []
    done = FolderWatch(tmp_path, Scorer(), log=lines.append).one_pass(settle_s=0.01)
    assert [p.name for p in done] == ["b.otio"]


@pytest.mark.parametrize("change", ["content", "size", "content, same size and time"])
def test_a_file_overwritten_while_scored_is_scored_again(tmp_path, change):
    (cut,) = drop(tmp_path, "cut.otio")
    newer = cut_document("Recut")

    def overwrite(path: Path) -> None:
        stat = path.stat()
        default_output_path(path).write_text(path.read_text())  # scored from the old content
        if change == "size":
            path.write_text(newer + "\n" * 10)
        elif change == "content":
            path.write_text(newer)
        else:
            old = path.read_text()
            path.write_text(newer[: len(old)].ljust(len(old)))
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    lines: list[str] = []
    scorer = Scorer({"cut.otio": overwrite})
    watch = FolderWatch(tmp_path, scorer, log=lines.append)
    watch.one_pass(settle_s=0.01)
    assert any(line.startswith("changed: cut.otio") for line in lines), lines
    scorer.faults.clear()
    watch.one_pass()  # a new size waits one pass (the export may still be being written)
    watch.one_pass()
    assert scorer.calls == ["cut.otio", "cut.otio"]
    assert default_output_path(cut).read_text() == cut.read_text()  # the scored file is of the new export
    watch.one_pass()
    assert scorer.calls == ["cut.otio", "cut.otio"]  # and it stays scored


def test_a_fifo_swapped_in_does_not_block_the_watch(tmp_path):
    (cut,) = drop(tmp_path, "cut.otio")
    lines: list[str] = []
    watch = FolderWatch(tmp_path, Scorer(), log=lines.append)
    watch.sizes = watch.look()
    cut.unlink()
    os.mkfifo(cut)
    watch.one_pass()  # the look sees no regular file; nothing blocks
    assert not default_output_path(cut).exists()


def test_watch_once_over_bad_exports_logs_one_line_each(tmp_path):
    """The real CLI: a 100k-deep .otioz (segfaulted), damaged files; rc 0, one line per file."""
    write_otioz(tmp_path / "deep.otioz", deep_json(100_000))
    (tmp_path / "deeper.otio").write_text(deep_json(100_000))
    (tmp_path / "broken.otio").write_text("{not json")
    (tmp_path / "empty.xml").write_text("<xmeml/>")
    (tmp_path / "junk.otioz").write_bytes(b"PK\x03\x04 not a zip")
    result = run_cli("watch", str(tmp_path), "--once", "--in-process")
    assert result.returncode == 0, result.stderr
    failed = sorted(line for line in result.stdout.splitlines() if line.startswith("failed:"))
    assert [line.split(":")[1].strip() for line in failed] == [
        "broken.otio",
        "deep.otioz",
        "deeper.otio",
        "empty.xml",
        "junk.otioz",
    ]
    assert "nested 100000 levels" in next(line for line in failed if "deep.otioz" in line)
    assert "Traceback" not in result.stderr and "internal error" not in result.stdout


def test_watch_cli_goes_on_after_an_unexpected_error(tmp_path, monkeypatch, capsys):
    """The real `watch` command with `score` raising a bug for one file: the next file is scored."""
    from vm_editor import cli

    drop(tmp_path, "a.otio", "b.otio")
    scored = []

    def fake_score(args):
        if args.timeline.name == "a.otio":
            raise AttributeError("'NoneType' object has no attribute 'rate'")
        scored.append(args.timeline.name)
        return 0

    monkeypatch.setattr(cli, "cmd_score", fake_score)
    assert cli.main(["watch", str(tmp_path), "--once"]) == 0
    out = capsys.readouterr().out
    assert "failed: a.otio: internal error (AttributeError" in out
    assert scored == ["b.otio"]


@pytest.mark.slow
def test_watch_scores_the_good_file_after_a_bad_one(tmp_path, shots_video):
    tl = timeline_of(
        video_track(clip("a", shots_video, 0, 28, 25, 75), clip("b", shots_video, 30, 24, 25, 75))
    )
    otio.adapters.write_to_file(tl, str(tmp_path / "b-good.otio"))
    write_otioz(tmp_path / "a-deep.otioz", deep_json(100_000))
    result = run_cli("watch", str(tmp_path), "--once", "--in-process", "--cues", "per-clip")
    assert result.returncode == 0, result.stderr
    assert "failed: a-deep.otioz" in result.stdout
    assert (tmp_path / "b-good.scored.otio").is_file()


# -- 2. bundles go through the same input guard ---------------------------------------------------


@pytest.mark.parametrize("levels", [MAX_TEXT_DEPTH + 1, 10_000, 100_000])
@pytest.mark.parametrize("bundle", [".otioz", ".otiod"])
def test_deep_bundles_are_refused_fast(tmp_path, bundle, levels):
    path = tmp_path / f"cut{bundle}"
    if bundle == ".otioz":
        write_otioz(path, deep_json(levels))
    else:
        path.mkdir()
        (path / "content.otio").write_text(deep_json(levels))
    started = time.monotonic()
    result = run_cli("scenes", str(path), "--json")
    assert_one_error_line(result, f"cut{bundle}", f"nested {levels} levels")
    assert time.monotonic() - started < 10


def test_a_deep_fcpxmld_bundle_is_refused(tmp_path):
    path = tmp_path / "cut.fcpxmld"
    path.mkdir()
    (path / "Info.fcpxml").write_text("<fcpxml>" + "<a>" * 10_000 + "</a>" * 10_000 + "</fcpxml>")
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "cut.fcpxmld", "nested")


@pytest.mark.parametrize(
    "case,needle",
    [
        ("no content.otio", "holds no content.otio"),
        ("not a zip", "not a readable .otioz"),
        ("corrupt member", "not a readable .otioz"),
        ("a FIFO inside a folder bundle", "FIFO"),
        ("a folder bundle without its document", "not found"),
    ],
)
def test_damaged_bundles_get_one_error_line(tmp_path, case, needle):
    path = tmp_path / ("cut.otiod" if "folder" in case else "cut.otioz")
    if case == "no content.otio":
        write_otioz(path, None)
    elif case == "not a zip":
        path.write_bytes(b"PK\x03\x04" + os.urandom(64))
    elif case == "corrupt member":
        write_otioz(path, cut_document() * 50)
        data = bytearray(path.read_bytes())
        at = data.index(b"content.otio") + 40
        data[at : at + 200] = os.urandom(200)
        path.write_bytes(bytes(data))
    else:
        path.mkdir()
        if "FIFO" in case:
            os.mkfifo(path / "content.otio")
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "cut.oti", needle)


def test_a_sound_otioz_still_reads(tmp_path):
    write_otioz(tmp_path / "cut.otioz", cut_document("Opening"))
    result = run_cli("scenes", str(tmp_path / "cut.otioz"), "--json", "--cues", "per-clip")
    assert result.returncode == 0, result.stderr
    assert '"name": "Opening"' in result.stdout


# -- 3. engine.lock names its process; nothing is signalled on the file's word alone ---------------

HOLDER = """
import sys, time
from pathlib import Path
from engine.service import instance_lock
lock = instance_lock.try_acquire(Path(sys.argv[1]))
print("held" if lock else "busy", flush=True)
time.sleep(120)
"""


@pytest.fixture
def lock_holder(tmp_path):
    """A process that holds a state folder's engine.lock as an engine does, and a bystander."""
    state = tmp_path / "state"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(state)], stdout=subprocess.PIPE, text=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        assert holder.stdout.readline().strip() == "held"
        yield state, holder, bystander
    finally:
        for process in (holder, bystander):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


LOCK_TEXT = {
    "a bystander's pid": lambda bystander: f"{bystander.pid}\n",
    "a bystander's pid with a made-up start": lambda bystander: f"{bystander.pid} 12345\n",
    "a pid that does not exist": lambda _: "4194303\n",
    "garbage": lambda _: "not a pid\n",
    "empty": lambda _: "",
    "pid 1": lambda _: "1\n",
    "a negative pid": lambda _: "-1\n",
}


@pytest.mark.parametrize("text", list(LOCK_TEXT))
def test_stop_signals_the_process_holding_the_lock_not_the_pid_written_in_it(lock_holder, text):
    from engine.service.runtime import stop

    state, holder, bystander = lock_holder
    (state / "engine.lock").write_text(LOCK_TEXT[text](bystander))
    stopped = stop(state, timeout_s=5)
    assert stopped is not None and stopped["pid"] == holder.pid
    assert holder.wait(timeout=10) is not None
    assert bystander.poll() is None  # the bystander lives on


@pytest.mark.parametrize("text", ["a bystander's pid", "a bystander's pid with a made-up start", "garbage"])
def test_without_the_kernels_lock_table_a_wrong_pid_is_refused_not_signalled(lock_holder, monkeypatch, text):
    from engine.service import instance_lock
    from engine.service.runtime import EngineBusyError, stop

    state, holder, bystander = lock_holder
    (state / "engine.lock").write_text(LOCK_TEXT[text](bystander))
    monkeypatch.setattr(instance_lock, "_kernel_owners", lambda _path: None)  # no /proc/locks
    with pytest.raises(EngineBusyError, match="nothing was signalled"):
        stop(state, timeout_s=2)
    assert bystander.poll() is None and holder.poll() is None


def test_without_the_kernels_lock_table_the_recorded_start_verifies_the_holder(lock_holder, monkeypatch):
    from engine.service import instance_lock
    from engine.service.runtime import stop

    state, holder, _ = lock_holder
    monkeypatch.setattr(instance_lock, "_kernel_owners", lambda _path: None)
    assert instance_lock.holder_pid(state) == holder.pid  # the lock's own record: pid and start time
    assert stop(state, timeout_s=5)["pid"] == holder.pid
    assert holder.wait(timeout=10) is not None


def test_vm_engine_stop_with_a_wrong_pid_stops_the_engine_only(lock_holder):
    state, holder, bystander = lock_holder
    (state / "engine.lock").write_text(f"{bystander.pid}\n")
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "stop", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"pid {holder.pid}" in result.stdout
    assert holder.wait(timeout=10) is not None and bystander.poll() is None


@pytest.mark.slow
def test_the_outdated_engine_restart_with_a_wrong_pid_in_the_lock(tmp_path, monkeypatch):
    """The real restart path (issue 28): a bystander's pid in engine.lock; the client replaces
    the outdated engine that holds the lock and the bystander lives on."""
    import shutil

    from engine.build_id import MODELS_ENV, build_fingerprint
    from tests.service_process import EngineProcess, kill_engine_in
    from tests.test_outdated_engine import ROOT, runtime_record, update_weights

    models = tmp_path / "models"
    shutil.copytree(ROOT / "resources" / "models", models)
    monkeypatch.setenv(MODELS_ENV, str(models))
    state, cues = tmp_path / "state", tmp_path / "cues"
    old = EngineProcess(state, cues).start()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        (state / "engine.lock").write_text(f"{bystander.pid}\n")
        update_weights(models)
        code = (
            "import argparse; from vm_editor.cli import _engine; "
            "print(_engine(argparse.Namespace(in_process=False)).info().version)"
        )
        env = dict(os.environ, VIDMUSICIAN_STATE_DIR=str(state), VIDMUSICIAN_CUE_ROOT=str(cues))
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        assert old.process.wait(timeout=30) is not None  # the engine holding the lock was replaced
        assert bystander.poll() is None  # the pid written in the lock was never signalled
        assert runtime_record(state)["build"] == build_fingerprint()
    finally:
        bystander.kill()
        bystander.wait(timeout=10)
        old.stop()
        kill_engine_in(state)


# -- 4. the panel: a cue WAV is untrusted; its problem shows on the cue --------------------------


def spoil_wav(wav: Path, how: str) -> None:
    import numpy as np
    import soundfile

    if how == "0 bytes":
        wav.write_bytes(b"")
    elif how == "random bytes":
        wav.write_bytes(os.urandom(4096))
    elif how == "a damaged header":
        wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(200))
    elif how == "a FIFO":
        os.mkfifo(wav)
    elif how == "a folder":
        wav.mkdir()
    elif how == "cut short":
        soundfile.write(wav, np.full(48000, 0.5), 48000)
        with open(wav, "r+b") as handle:
            handle.truncate(30_000)
    elif how == "missing":
        pass


SPOILED = {
    "0 bytes": "empty",
    "random bytes": "not a readable WAV",
    "a damaged header": "not a readable WAV",
    "a FIFO": "FIFO",
    "a folder": "not a regular file",
    "missing": "cannot open it",
    "cut short": None,  # libsndfile reads what is there: drawn, not refused
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", list(SPOILED))
def test_a_spoiled_cue_wav_shows_on_the_cue_and_the_panel_goes_on(qtbot, tmp_path, shots_video, how):
    from PySide6.QtCore import Qt

    from engine.api import CueResult, ProgressEvent
    from ui.panel import ScorePanel
    from vm_editor.engine_client import ServiceEngine
    from vm_editor.panel_model import PanelModel, PanelOptions

    tl = timeline_of(
        video_track(clip("a", shots_video, 0, 25, 25, 75), clip("b", shots_video, 30, 24, 25, 75))
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    panel.show()
    panel.open_timeline(path)
    wav = tmp_path / "cue.wav"
    spoil_wav(wav, how)
    cue = CueResult(1, "b", str(wav), 0.96, 46080, 48000, "tiny", 1, None, 1, "h", "0", False)
    job = panel.model.submit([1])
    job.inbox.put(ProgressEvent(1, 1, 1, "b", "done", 1.0, 0.1, cue))
    panel.model.poll()
    panel.grab()  # paints the cut view, which draws the cue's waveform
    label = panel.model.row_label(1)
    if SPOILED[how] is None:
        assert label["music_problem"] is None and panel.cut_view.waveform(1)
        return
    assert SPOILED[how] in label["music_problem"] and "regenerate the cue" in label["music_problem"]
    assert "music unreadable" in panel.table.item(1, 8).text()
    assert panel.table.item(1, 8).toolTip() == label["music_problem"]
    assert panel.model.playable_music(1) is None  # no player is ever given it (a FIFO would block)
    panel.cut_view.setFocus()
    qtbot.keyClick(panel.cut_view, Qt.Key.Key_Right)
    qtbot.keyClick(panel.cut_view, Qt.Key.Key_Space)  # plays the picture, not the spoiled music
    if getattr(panel, "stop_timer", None) is not None:
        panel.stop_playback()
    assert panel.isVisible()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["0 bytes", "a FIFO", "random bytes"])
def test_reopening_a_scored_timeline_with_a_spoiled_wav_shows_it_on_the_cue(qtbot, tmp_path, how):
    from tests.test_input_guard import write_scored_cut
    from ui.panel import ScorePanel
    from vm_editor.engine_client import ServiceEngine
    from vm_editor.panel_model import PanelModel, PanelOptions

    wav = tmp_path / "a.wav"
    spoil_wav(wav, how)
    path = write_scored_cut(tmp_path, {"wav_url": wav.as_uri()})
    panel = ScorePanel(
        PanelModel(ServiceEngine(tmp_path / "none", start=False), PanelOptions(cues="per-clip"))
    )
    qtbot.addWidget(panel)
    panel.show()
    panel.open_timeline(path)
    qtbot.waitUntil(lambda: bool(panel.model.rows and panel.model.rows[0].takes), timeout=20_000)
    panel.grab()
    problem = panel.model.row_label(0)["music_problem"]
    assert problem and SPOILED[how] in problem
    assert "music unreadable" in panel.table.item(0, 8).text() and panel.isVisible()


# -- 5. clips past their media's end (or before its start) are refused before scoring ------------


@pytest.fixture(scope="module")
def four_s_video(tmp_path_factory) -> Path:
    """4.000 s of media: two shots of 50 frames at 25 fps."""
    from tests.conftest import write_shots_video

    return write_shots_video(tmp_path_factory.mktemp("media") / "four.mp4", [50, 50])


def _shot(video: Path, start_s: float, end_s: float, speed: float = 1.0, name: str = "Overrun"):
    from engine.api import ProgramSegmentSpec

    length = abs(end_s - start_s) / abs(speed) if speed else 1.0
    return ProgramSegmentSpec(str(video), start_s, end_s, 0.0, length, speed, name=name)


RANGES = {
    "partly past the end": ((3.0, 5.0, 1.0), "past the end of the media (4.000 s)"),
    "wholly past the end": ((6.0, 7.0, 1.0), "past the end"),
    "before the start": ((-0.4, 0.6, 1.0), "0.400 s before the media's first frame"),
    "wholly before the start": ((-2.0, -1.0, 1.0), "before the media's first frame"),
    "reversed past the end": ((5.0, 3.0, -1.0), "past the end"),
    "2x past the end": ((2.0, 6.0, 2.0), "past the end"),
    "a freeze frame after the end": ((4.5, 4.5, 0.0), "past the end"),
    "starting at the very end": ((4.0, 4.5, 1.0), "past the end"),
}


@pytest.mark.parametrize("case", list(RANGES))
def test_program_media_ranges_outside_the_media_are_refused(four_s_video, case):
    from engine.api import CueProgram, SceneRequest
    from engine.errors import MediaRangeError
    from engine.media import check_program_media

    (start, end, speed), needle = RANGES[case]
    seg = _shot(four_s_video, start, end, speed)
    scene = SceneRequest(3, "Cue three", seg.record_end_s, program=CueProgram(seg.record_end_s, (seg,)))
    with pytest.raises(MediaRangeError) as refused:
        check_program_media([scene])
    message = str(refused.value)
    assert "cue 3 ('Cue three')" in message and "clip 'Overrun'" in message and needle in message
    assert "trim the clip" in message and "relink" in message


@pytest.mark.parametrize(
    "start,end,speed",
    [(0.0, 4.0, 1.0), (3.99, 0.0, -1.0), (3.96, 3.96, 0.0), (0.0, 4.035, 1.0), (-0.035, 1.0, 1.0)],
)
def test_program_media_ranges_inside_the_media_pass(four_s_video, start, end, speed):
    from engine.api import CueProgram, SceneRequest
    from engine.media import check_program_media

    seg = _shot(four_s_video, start, end, speed)
    check_program_media(
        [SceneRequest(0, "c", seg.record_end_s, program=CueProgram(seg.record_end_s, (seg,)))]
    )


def test_a_still_image_is_held_for_any_source_range(tmp_path):
    import numpy as np
    from PIL import Image

    from engine.api import CueProgram, SceneRequest
    from engine.media import check_program_media

    still = tmp_path / "title.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(still)
    seg = _shot(still, 0.0, 5.0)
    check_program_media(
        [SceneRequest(0, "c", seg.record_end_s, program=CueProgram(seg.record_end_s, (seg,)))]
    )


def write_overrun(tmp_path: Path, video: Path, start: int, frames: int) -> Path:
    tl = timeline_of(
        video_track(clip("Good", video, 0, 25, 25, 400), clip("Overrun", video, start, frames, 25, 400))
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


CLIPS = {"partly past the end": (75, 50), "wholly past the end": (150, 25), "before the start": (-10, 25)}


@pytest.mark.parametrize("mode", ["--in-process", "service"])
@pytest.mark.parametrize("case", list(CLIPS))
def test_score_refuses_a_clip_outside_its_media_in_both_modes(tmp_path, four_s_video, case, mode):
    path = write_overrun(tmp_path, four_s_video, *CLIPS[case])
    result = run_cli("score", str(path), "--cues", "per-clip", *([mode] if mode != "service" else []))
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "clip 'Overrun'" in lines[0] and "trim the clip" in lines[0]
    assert "Traceback" not in result.stderr and "scoring 2 scene" not in result.stderr
    assert not (tmp_path / "cut.scored.otio").exists() and not list(tmp_path.glob("*_cues/*.wav"))


def test_rhythm_refuses_a_clip_outside_its_media(tmp_path, four_s_video):
    path = write_overrun(tmp_path, four_s_video, 75, 50)
    result = run_cli("rhythm", str(path), "--cues", "per-clip", "--cue", "1", "--in-process", "--json")
    assert_one_error_line(result, "clip 'Overrun'", "past the end")


# -- 6. no tracebacks, no "internal error": each bad input is one error line ---------------------


def _soundfont_case(tmp_path: Path, case: str) -> str:
    import numpy as np
    import soundfile

    from engine.symbolic.soundfont import bundled_soundfont

    target = tmp_path / "font.sf2"
    if case == "garbage":
        target.write_bytes(os.urandom(4096))
    elif case == "empty":
        target.write_bytes(b"")
    elif case == "a folder":
        target.mkdir()
    elif case == "a WAV":
        soundfile.write(target, np.zeros(4800), 48000, format="WAV")
    elif case == "cut short":
        target.write_bytes(bundled_soundfont().read_bytes()[:200_000])
    elif case == "a FIFO":
        os.mkfifo(target)
    return str(target)


SOUNDFONTS = {
    "garbage": "not a SoundFont",
    "empty": "empty",
    "a folder": "no such file",
    "missing": "no such file",
    "a WAV": "is a WAV file",
    "cut short": "cannot load it",
    "a FIFO": "no such file",
}


@pytest.mark.parametrize("case", list(SOUNDFONTS))
def test_a_bad_soundfont_is_one_error_naming_the_variable(tmp_path, monkeypatch, case):
    from engine.soundfont_check import SoundfontError, check_soundfont

    monkeypatch.setenv("VIDMUSICIAN_SOUNDFONT", _soundfont_case(tmp_path, case))
    with pytest.raises(SoundfontError) as refused:
        check_soundfont()
    assert "VIDMUSICIAN_SOUNDFONT=" in str(refused.value) and SOUNDFONTS[case] in str(refused.value)


def test_the_default_soundfont_passes_the_check(monkeypatch):
    from engine.soundfont_check import check_soundfont

    monkeypatch.delenv("VIDMUSICIAN_SOUNDFONT", raising=False)
    assert check_soundfont().is_file()


@pytest.mark.parametrize("case", ["garbage", "a WAV"])
def test_score_with_a_bad_soundfont_refuses_before_any_cue(tmp_path, four_s_video, case):
    path = write_overrun(tmp_path, four_s_video, 25, 25)  # both clips inside the media
    env = {**os.environ, "VIDMUSICIAN_SOUNDFONT": _soundfont_case(tmp_path, case)}
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "score", str(path), "--in-process", "--cues", "per-clip"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert_one_error_line(result, "VIDMUSICIAN_SOUNDFONT=", SOUNDFONTS[case])
    assert not list(tmp_path.glob("*_cues/*.wav"))


FRAME_DURATIONS = {
    "0s": "frameDuration '0s'",
    "1/0s": "'1/0s' is not a number of seconds",
    "0/1s": "frameDuration '0/1s'",
    "abc": "'abc' is not a number of seconds",
    "-1/25s": "frameDuration '-1/25s'",
    "1/1000000s": "frameDuration '1/1000000s'",
}


@pytest.mark.parametrize("value", list(FRAME_DURATIONS))
def test_fcpxml_frame_durations_that_are_no_frame(tmp_path, value):
    import re

    source = Path(__file__).parent / "fixtures" / "formats" / "fcpxml_1_13_25i.fcpxml"
    path = tmp_path / "cut.fcpxml"
    path.write_text(re.sub(r'frameDuration="[^"]*"', f'frameDuration="{value}"', source.read_text()))
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "cut.fcpxml", FRAME_DURATIONS[value])


def test_fcpxml_time_with_a_zero_denominator(tmp_path):
    import re

    source = Path(__file__).parent / "fixtures" / "formats" / "fcpxml_1_13_25i.fcpxml"
    path = tmp_path / "cut.fcpxml"
    path.write_text(re.sub(r'offset="[^"]*"', 'offset="1/0s"', source.read_text(), count=1))
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "cut.fcpxml", "'1/0s'")


@pytest.mark.parametrize("speed", [float("nan"), float("inf"), float("-inf"), 1e300])
def test_time_warps_that_are_no_speed(tmp_path, speed):
    warped = clip("Warped", Path("/nowhere/x.mov"), 0, 25, 25, 100)
    warped.effects.append(otio.schema.LinearTimeWarp(time_scalar=speed))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(warped)), str(path))
    assert_one_error_line(run_cli("scenes", str(path), "--json"), "cut.otio", "'Warped'", "time warp")


@pytest.mark.parametrize("kind", ["clip", "gap", "stack"])
def test_an_item_placed_directly_in_the_timelines_stack(tmp_path, kind):
    tl = timeline_of(video_track(clip("a", Path("/nowhere/x.mov"), 0, 25, 25, 75)))
    item = {
        "clip": lambda: clip("direct", Path("/nowhere/x.mov"), 0, 25, 25, 75),
        "gap": lambda: otio.schema.Gap(name="direct", duration=otio.opentime.RationalTime(25, 25)),
        "stack": lambda: otio.schema.Stack(name="direct"),
    }[kind]()
    tl.tracks.append(item)
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    for command in ("scenes", "score"):
        result = run_cli(command, str(path), "--in-process", *(["--json"] if command == "scenes" else []))
        assert_one_error_line(result, "cut.otio", f"{kind} 'direct'", "not on a track")


NON_UTF8 = os.fsdecode(b"\xff\xfe")


@pytest.mark.parametrize(
    "option",
    [("-o", "out-{}.otio"), ("--cue-dir", "cues-{}"), ("--prompt", "calm {}")],
    ids=["-o", "--cue-dir", "--prompt"],
)
@pytest.mark.parametrize("mode", ["--in-process", "service"])
def test_non_utf8_options_are_refused_before_scoring(tmp_path, four_s_video, option, mode):
    path = write_overrun(tmp_path, four_s_video, 25, 25)
    flag, value = option
    value = value.format(NON_UTF8)
    value = str(tmp_path / value) if flag != "--prompt" else value
    args = ["score", str(path), "--cues", "per-clip", flag, value, *([mode] if mode != "service" else [])]
    result = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"vm_editor.cli", *(os.fsencode(a) for a in args)],
        capture_output=True,
        timeout=120,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and flag in errors[0] and "UTF-8" in errors[0] and "\\xff" in errors[0]


def test_non_utf8_bytes_in_a_clip_name_are_one_error(tmp_path, four_s_video):
    path = write_overrun(tmp_path, four_s_video, 25, 25)
    path.write_bytes(path.read_bytes().replace(b'"Overrun"', b'"Ov\xffrrun"'))
    result = run_cli("score", str(path), "--in-process", "--cues", "per-clip")
    assert_one_error_line(result, "cut.otio", "not UTF-8", "(after 'Ov')")


def test_a_non_utf8_timeline_file_name_is_one_error_when_scoring(tmp_path, four_s_video):
    path = write_overrun(tmp_path, four_s_video, 25, 25)
    odd = tmp_path / os.fsdecode(b"cut-\xff.otio")
    path.rename(odd)
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "score", os.fsencode(odd), "--in-process"],
        capture_output=True,
        timeout=120,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and "Traceback" not in stderr and "cut-\\xff.otio" in stderr, stderr


REGENERATE = {
    "handle_s 'x'": ({"handle_s": "x"}, (), "handle_s"),
    "handle_s 1e9": ({"handle_s": 1e9}, (), "handle_s"),
    "no start frame": ({}, ("record_start_frame",), "record_start_frame"),
    "no end frame": ({}, ("record_end_frame",), "record_end_frame"),
    "end frame 1e12": ({"record_end_frame": 10**12}, (), "spans frames"),
    "end frame 1e12 as float": ({"record_end_frame": 1e12}, (), "spans frames"),
    "start after end": ({"record_start_frame": 20, "record_end_frame": 5}, (), "spans frames"),
    "negative start": ({"record_start_frame": -5}, (), "spans frames"),
    "rate 0": ({"rate": 0}, (), "rate"),
    "rate 'x'": ({"rate": "x"}, (), "rate"),
}


@pytest.mark.parametrize("case", list(REGENERATE))
def test_regenerate_with_damaged_cue_metadata_is_one_error(tmp_path, case):
    from tests.test_input_guard import write_scored_cut

    changes, drop, needle = REGENERATE[case]
    path = write_scored_cut(tmp_path, changes, drop)
    started = time.monotonic()
    result = run_cli("regenerate", str(path), "--cue", "0", "--in-process")
    assert_one_error_line(result, "cut.scored.otio", "cue 0", needle)
    assert time.monotonic() - started < 30


TOKENS = {
    "1-D": lambda path: __import__("numpy").save(path, __import__("numpy").arange(10)),
    "0 bytes": lambda path: path.write_bytes(b""),
    "not .npy": lambda path: path.write_bytes(b"hello, not numpy"),
    "floats": lambda path: __import__("numpy").save(path, __import__("numpy").zeros((4, 10))),
    "cut short": lambda path: path.write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order'"),
}


@pytest.fixture(scope="module")
def in_process_engine():
    from engine.in_process import InProcessEngine

    return InProcessEngine()


@pytest.mark.parametrize("case", list(TOKENS))
def test_continuing_from_damaged_tokens_is_one_input_error(tmp_path, in_process_engine, case):
    from engine.api import Continuation, SceneRequest, ScoreRequest
    from engine.errors import EngineInputError

    tokens = tmp_path / "cue000.tokens.npy"
    TOKENS[case](tokens)
    scene = SceneRequest(1, "second", 2.0, continue_from=Continuation(1.0, str(tokens)))
    with pytest.raises(EngineInputError, match="previous cue's tokens"):
        in_process_engine.score(ScoreRequest((scene,), cue_dir=str(tmp_path / "cues")))
    assert not list((tmp_path / "cues").glob("*.wav"))


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "taken"])
def test_serve_on_a_port_it_cannot_have_is_one_error(tmp_path, port):
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    if port == "taken":
        port = str(holder.getsockname()[1])
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                f"--port={port}",
                "--state-dir",
                str(tmp_path / "s"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.close()
    assert_one_error_line(result, f"--port {port}")
    assert not (tmp_path / "s" / "engine.json").exists()


@pytest.mark.parametrize("where", ["a file", "under a file"])
@pytest.mark.parametrize("command", ["score", "serve"])
def test_an_unusable_state_folder_is_one_error(tmp_path, four_s_video, where, command):
    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    state = blocker if where == "a file" else blocker / "inner"
    if command == "score":
        path = write_overrun(tmp_path, four_s_video, 25, 25)
        args = [sys.executable, "-m", "vm_editor.cli", "score", str(path), "--cues", "per-clip"]
    else:
        args = [sys.executable, "-m", "engine.cli", "serve", "--state-dir", str(state)]
    env = {**os.environ, "VIDMUSICIAN_STATE_DIR": str(state)}
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert_one_error_line(result, "state folder", str(state))


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "5", "1e308"])
@pytest.mark.parametrize("command", ["score", "panel"])
def test_crossfade_that_is_no_length_is_refused_first(tmp_path, four_s_video, value, command):
    path = write_overrun(tmp_path, four_s_video, 25, 25)
    if command == "score":
        result = run_cli("score", str(path), "--in-process", f"--crossfade={value}")
    else:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "ui",
                str(path),
                f"--crossfade={value}",
                "--screenshot",
                str(tmp_path / "p.png"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert_one_error_line(result, "--crossfade")
    assert not (tmp_path / "cut.scored.otio").exists() and not (tmp_path / "p.png").exists()


# -- 7. install-host writes only its own files -----------------------------------------------------


def install_host(home: Path, host: str = "resolve") -> subprocess.CompletedProcess:
    from tests.test_install_host import _cli

    return _cli(home, "install-host", host)


def resolve_folder(home: Path) -> Path:
    return home / ".local/share/DaVinciResolve/Fusion/Scripts/Utility"


@pytest.mark.parametrize("planted", ["the old .tmp name", "the launcher itself"])
def test_install_host_never_writes_through_a_planted_symlink(tmp_path, planted):
    folder = resolve_folder(tmp_path)
    folder.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    name = "VidMusician Score.py"
    link = folder / (f".{name}.tmp" if planted == "the old .tmp name" else name)
    link.symlink_to(victim)
    result = install_host(tmp_path)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious"
    launcher = folder / name
    assert launcher.is_file() and not launcher.is_symlink() and "VIDMUSICIAN_PYTHON" in launcher.read_text()


def test_a_folder_swapped_for_a_symlink_after_submit_makes_nothing_outside_the_cue_root(tmp_path):
    """The service's worker writes a cue into a folder it accepted; the folder becomes a link."""
    from engine.api import SceneRequest, ScoreRequest
    from engine.pipeline import iter_cues
    from engine.safe_write import WriteNotAllowed, confined_to
    from engine.service.paths import resolve_cue_dir

    root, outside = tmp_path / "cues", tmp_path / "outside"
    (root / "proj").mkdir(parents=True)
    outside.mkdir()
    accepted = resolve_cue_dir(root, "proj/sub")
    (root / "proj").rmdir()
    (root / "proj").symlink_to(outside)
    request = ScoreRequest((SceneRequest(0, "a", 1.0),), cue_dir=str(accepted))
    with confined_to(root), pytest.raises(WriteNotAllowed):
        list(iter_cues(request))
    assert list(outside.iterdir()) == []  # no empty folder outside the root


def test_install_host_removes_its_own_stale_temporary_files_only(tmp_path):
    folder = resolve_folder(tmp_path)
    folder.mkdir(parents=True)
    stale = folder / f".VidMusician Score.py.vmtmp-{dead_pid()}-abc123.tmp"
    stale.write_text("half a launcher")
    users = folder / "notes.vmtmp.txt"
    users.write_text("the user's")
    assert install_host(tmp_path).returncode == 0
    assert not stale.exists() and users.read_text() == "the user's"
    assert not [p for p in folder.iterdir() if ".vmtmp-" in p.name]


@pytest.mark.parametrize("block", ["a file where the folder goes", "a file above the folder"])
def test_install_host_into_a_blocked_target_is_one_error(tmp_path, block):
    folder = resolve_folder(tmp_path)
    if block == "a file where the folder goes":
        folder.parent.mkdir(parents=True)
        folder.write_text("not a folder")
    else:
        (tmp_path / ".local").write_text("not a folder")
    assert_one_error_line(install_host(tmp_path), "install-host again")


def test_install_host_into_a_read_only_folder_is_one_error(tmp_path, monkeypatch, capsys):
    """Read-only as the OS answers it (root ignores modes, so the answer is given here)."""
    import errno
    import tempfile

    from vm_editor import cli

    def read_only(*_args, **_kwargs):
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert cli.main(["install-host", "resolve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Read-only file system" in err[0]


# -- 8. temporary files a kill -9 left are removed by the next run ---------------------------------


def dead_pid() -> int:
    """The pid of a process that has exited (killed with SIGKILL, as the fault is)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    process.kill()
    process.wait(timeout=10)
    return process.pid


def plant_temps(folder: Path, final_name: str, suffix: str) -> dict[str, Path]:
    """A dead writer's temporary file, a live writer's, a symlink and a folder named like ours."""
    folder.mkdir(parents=True, exist_ok=True)
    victim = folder.parent / f"victim-{folder.name}.txt"
    victim.write_text("precious")
    planted = {
        "dead": folder / f".{final_name}.vmtmp-{dead_pid()}-deadbeef{suffix}",
        "alive": folder / f".{final_name}.vmtmp-{os.getppid()}-a11ve000{suffix}",
        "link": folder / f".{final_name}.vmtmp-{dead_pid()}-11nk0000{suffix}",
        "folder": folder / f".{final_name}.vmtmp-{dead_pid()}-f01der00{suffix}",
        "users": folder / f".{final_name}.backup{suffix}",
    }
    planted["dead"].write_bytes(b"half a file")
    planted["alive"].write_bytes(b"being written")
    planted["link"].symlink_to(victim)
    planted["folder"].mkdir()
    planted["users"].write_bytes(b"the user's")
    return planted | {"victim": victim}


def assert_only_the_dead_writers_temp_went(planted: dict[str, Path]) -> None:
    assert not planted["dead"].exists()
    assert planted["alive"].read_bytes() == b"being written"
    assert planted["link"].is_symlink() and planted["victim"].read_text() == "precious"
    assert planted["folder"].is_dir() and planted["users"].read_bytes() == b"the user's"


def test_timeline_writes_remove_a_killed_runs_hidden_timeline(tmp_path):
    from vm_editor.timeline_io import write_timeline_atomic

    out = tmp_path / "out" / "cut.scored.otio"
    planted = plant_temps(out.parent, out.name, ".otio")
    write_timeline_atomic(timeline_of(video_track(clip("a", Path("/nowhere/x.mov"), 0, 25, 25, 75))), out)
    assert out.is_file()
    assert_only_the_dead_writers_temp_went(planted)


@pytest.mark.parametrize("kind", ["wav", "tokens"])
def test_cue_and_token_writes_remove_a_killed_runs_partial_files(tmp_path, kind):
    from engine.safe_write import write_atomic

    name, suffix = ("cue000.wav", ".wav.part") if kind == "wav" else ("cue000.tokens.npy", ".npy.part")
    stem = name.rsplit(".", 1)[0]
    planted = plant_temps(tmp_path / "cues", stem, suffix)
    write_atomic(tmp_path / "cues" / name, lambda handle: handle.write(b"RIFF"))
    assert (tmp_path / "cues" / name).read_bytes() == b"RIFF"
    assert_only_the_dead_writers_temp_went(planted)


def test_moving_cues_removes_a_killed_runs_partial_copies(tmp_path):
    from engine.api import CueResult
    from vm_editor.cue_files import move_cues

    planted = plant_temps(tmp_path / "dest", "cue000.wav", ".part")
    (tmp_path / "src").mkdir()
    wav = tmp_path / "src" / "cue000.wav"
    wav.write_bytes(b"RIFF")
    cue = CueResult(0, "a", str(wav), 1.0, 48000, 48000, "tiny", 1, None, 1, "h", "0", False)
    (moved,) = move_cues([cue], tmp_path / "dest")
    assert Path(moved.wav_path).read_bytes() == b"RIFF"
    assert_only_the_dead_writers_temp_went(planted)


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_a_temp_the_next_run_removes(tmp_path):
    """The real fault: kill -9 while the temporary file exists; the next write removes it."""
    from vm_editor.timeline_io import write_timeline_atomic

    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from vm_editor import timeline_io\n"
        "def stall(*_a, **_k):\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "timeline_io._write_or_explain = stall\n"
        "from tests.test_faults_round2 import cut_document\n"
        "import opentimelineio as otio\n"
        "timeline_io.write_timeline_atomic(otio.adapters.read_from_string(cut_document()), Path(sys.argv[1]))\n"
    )
    out = tmp_path / "cut.scored.otio"
    writer = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.kill()
    writer.wait(timeout=10)
    left = [p for p in tmp_path.iterdir() if ".vmtmp-" in p.name]
    assert len(left) == 1  # the fault as it was: a hidden timeline left behind
    write_timeline_atomic(otio.adapters.read_from_string(cut_document()), out)
    assert out.is_file() and not [p for p in tmp_path.iterdir() if ".vmtmp-" in p.name]
