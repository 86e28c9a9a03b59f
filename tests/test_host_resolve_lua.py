"""The Lua launchers (Resolve's free edition from 21.1 on) against the same recorded double of
Resolve's API as the Python launcher, run by LuaJIT (lupa), the Lua Resolve embeds: the launcher
text `install-host` writes, its bridge commands run for real with this install's Python."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.resolve_double import Resolve, run_lua_launcher
from tests.test_host_resolve import _cut, _score_by_hand, _session
from vm_editor.host_cues import SCORE_TRACK_NAME, parse_host_rate
from vm_editor.host_install import RESOLVE_LUA_BODY, launchers, lua_launcher

ROOT = Path(__file__).resolve().parents[1]


def _lua(action: str, *, score_args=()) -> str:
    return lua_launcher(action, python=sys.executable, root=ROOT, score_args=score_args)


@pytest.fixture
def projects(tmp_path, monkeypatch):
    """The project folder the bridge makes, here under tmp_path (the launcher has no `root`)."""
    monkeypatch.setenv("VIDMUSICIAN_PROJECTS", str(tmp_path / "projects"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return tmp_path / "projects"


def test_every_lua_launcher_compiles_in_luajit(tmp_path):
    from lupa import luajit21

    lua = luajit21.LuaRuntime()
    body = (ROOT / RESOLVE_LUA_BODY).read_text()
    assert lua.eval("function(text) return load(text) ~= nil end")(body)
    items = [x for x in launchers("resolve", home=tmp_path, env={}) if x.path.suffix == ".lua"]
    assert sorted(x.path.name for x in items) == [
        "VidMusician Panel (Lua).lua",
        "VidMusician Score (Lua).lua",
        "VidMusician Update (Lua).lua",
    ]
    for item in items:
        assert lua.eval("function(text) return load(text) ~= nil end")(item.text)
        assert str(ROOT / RESOLVE_LUA_BODY) in item.text


@pytest.mark.parametrize("rate_text,start", [("23.976", 86400), ("25", 90000)])
def test_lua_update_places_the_cues_as_the_python_launcher_does(
    tmp_path, shots_video, projects, rate_text, start
):
    _, python_session = _session(tmp_path, shots_video, rate_text)  # its folder: projects/My Film
    _, cues = _score_by_hand(python_session, python_session.export())

    rate = float(parse_host_rate(rate_text))
    resolve = Resolve("My Film", "Reel 1", _cut(shots_video, rate), rate_text, audio_tracks=2)
    said = []
    assert python_session.scored_path == projects / "My Film" / "Reel 1.scored.otio"

    result = run_lua_launcher(_lua("update"), resolve, said.append)

    assert result == {"status": 0, "summary": {"track": 3, "removed": 0, "placed": 3}}, said
    assert resolve.rec.named("AddTrack") == [("audio",)]
    assert resolve.rec.named("SetTrackName") == [("audio", 3, SCORE_TRACK_NAME)]
    assert resolve.rec.named("AddSubFolder") == [("Master", "VidMusician")]
    assert resolve.rec.named("ImportMedia") == [([c.wav_path for c in cues],)]
    (infos,) = resolve.rec.named("AppendToTimeline")[0]
    assert [(i["mediaPoolItem"].path, i["recordFrame"], i["endFrame"], i["trackIndex"]) for i in infos] == [
        (cues[0].wav_path, start, 28, 3),
        (cues[1].wav_path, start + 28, 24, 3),
        (cues[2].wav_path, start + 52, 20, 3),
    ]
    assert all(i["startFrame"] == 0 and i["mediaType"] == 2 for i in infos)
    assert "VidMusician: audio track 3 'VidMusician score': 3 cue(s) placed, 0 replaced or removed" in said

    # again: nothing to do, nothing imported or appended
    before = len(resolve.rec.calls)
    assert run_lua_launcher(_lua("update"), resolve, said.append)["summary"]["placed"] == 0
    assert not [
        c for c in resolve.rec.calls[before:] if c[1] in ("ImportMedia", "AppendToTimeline", "AddTrack")
    ]
    assert not list((projects / "My Film").glob("*.placed.tsv"))  # its own scratch file removed


def test_lua_names_what_to_drag_when_append_returns_nothing(tmp_path, shots_video, projects):
    resolve, session = _session(tmp_path, shots_video, "25")
    _, cues = _score_by_hand(session, session.export())
    resolve.project.pool.append_bug = "none"
    said = []

    result = run_lua_launcher(_lua("update"), resolve, said.append)

    assert result["status"] == 2
    text = "\n".join(said)
    assert "AppendToTimeline returned nothing (a known Resolve scripting bug); 3 cue(s)" in text
    for cue, at in zip(cues, ("01:00:00:00", "01:00:01:03", "01:00:02:02"), strict=True):
        name = Path(cue.wav_path).name
        assert (
            f"drag {name} from the media pool bin 'VidMusician' to audio track 3 'VidMusician score' at {at}"
            in text
        )
    assert said[-1].startswith(
        "VidMusician: error: 3 of 3 cue(s) not placed; drag them from the media pool bin"
    )


def test_lua_errors_name_the_fix(tmp_path, shots_video, projects):
    resolve = Resolve("My Film", "Reel 1", _cut(shots_video, 25.0), "25")
    said = []
    assert run_lua_launcher(_lua("update"), resolve, said.append)["status"] == 2
    assert (
        said[-1].startswith("VidMusician: error: ") and "no scored timeline yet; score it first" in said[-1]
    )
    said.clear()
    assert run_lua_launcher(_lua("panel"), resolve, said.append)["status"] == 2
    scored = projects / "My Film" / "Reel 1.scored.otio"
    assert said == [f"VidMusician: error: {scored}: no scored timeline yet; score it first"]


@pytest.mark.slow
def test_lua_score_streams_progress_and_fills_the_track(tmp_path, shots_video, projects):
    """Export, `vm-editor score` through io.popen (each line said as it comes: the first cue's
    line seconds before `wrote`), then the cues on the track."""
    resolve = Resolve("My Film", "Reel 1", _cut(shots_video, 25.0), "25", audio_tracks=1)
    said = []

    result = run_lua_launcher(
        _lua("score", score_args=("--in-process", "--cues", "per-clip")),
        resolve,
        lambda line: said.append((time.monotonic(), line)),
    )

    assert result == {"status": 0, "summary": {"track": 2, "removed": 0, "placed": 3}}, said
    assert resolve.rec.named("Export") == [
        (str(projects / "My Film" / "Reel 1.otio"), "EXPORT_OTIO", "EXPORT_NONE")
    ]
    ((infos,),) = resolve.rec.named("AppendToTimeline")
    assert [(i["recordFrame"], i["endFrame"]) for i in infos] == [(90000, 28), (90028, 24), (90052, 20)]
    first = next(t for t, line in said if line.startswith("[1/3]"))
    wrote = next(t for t, line in said if line.startswith("wrote "))
    assert wrote - first > 0.5, said


@pytest.mark.parametrize("rate,drop", [("25", False), ("23.976", False), ("29.97", True), ("59.94", True)])
def test_the_timecodes_said_for_placing_by_hand_are_the_editors(rate, drop):
    """`frame_to_timecode` (the advice's "at 01:00:04:12") inverts `timecode_to_frame`, drop-frame
    included: 00:01:00;02 follows 00:00:59;29 at 29.97 DF, and every tenth minute keeps ;00."""
    from vm_editor.host_cues import frame_to_timecode, timecode_to_frame

    for frame in [*range(0, 40_000, 7), 107_892, 215_784]:
        text = frame_to_timecode(frame, rate, drop=drop)
        assert timecode_to_frame(text, rate) == frame, (frame, text)
    if rate == "29.97":
        assert frame_to_timecode(1799, rate, drop=True) == "00:00:59;29"
        assert frame_to_timecode(1800, rate, drop=True) == "00:01:00;02"
        assert frame_to_timecode(17982, rate, drop=True) == "00:10:00;00"


def test_the_bridge_refuses_a_damaged_placed_list(tmp_path, shots_video, capsys):
    from vm_editor.host_bridge import main

    _, session = _session(tmp_path, shots_video, "25")
    _score_by_hand(session, session.export())
    placed = tmp_path / "placed.tsv"
    placed.write_text("0\t28\n")
    args = ["sync", str(session.scored_path), "--rate", "25", "--start", "90000", "--placed", str(placed)]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == f"error: {placed}:1: expected start<TAB>end<TAB>path"
