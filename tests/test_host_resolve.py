"""The Resolve launcher against a recorded double of Resolve's API: the OTIO export, every
ImportMedia path, every AppendToTimeline dictionary (timelines starting at 01:00:00:00 at 23.976
and 25), a regenerated take replacing its clip, and a real score through this install's CLI."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.resolve_double import Resolve
from tests.timeline_builders import clip, timeline_of, video_track
from tests.timeline_helpers import cues_for, write_wav
from ui.hosts.commands import BackgroundCommand, InstallCommands, LauncherError
from ui.hosts.resolve_launch import ResolveScore, run
from vm_editor import scoring
from vm_editor.host_cues import SCORE_TRACK_NAME, parse_host_rate, timecode_to_frame
from vm_editor.timeline_io import read_timeline, write_timeline_atomic
from vm_editor.writeback import add_score_track, replace_cue

RationalTime = otio.opentime.RationalTime


def _cut(media: Path, rate: float) -> otio.schema.Timeline:
    tl = timeline_of(
        video_track(
            clip("a", media, 0, 28, rate, 75),
            clip("b", media, 30, 24, rate, 75),
            clip("c", media, 50, 20, rate, 75),
        ),
        rate=rate,
        name="Reel 1",
    )
    tl.global_start_time = RationalTime(timecode_to_frame("01:00:00:00", parse_host_rate(rate)), rate)
    return tl


def _session(
    tmp_path, media, rate_text: str, *, score_args=(), log=lambda _: None
) -> tuple[Resolve, ResolveScore]:
    rate = float(parse_host_rate(rate_text))
    resolve = Resolve("My Film", "Reel 1", _cut(media, rate), rate_text, audio_tracks=2)
    commands = InstallCommands(sys.executable, score_args=score_args, log=log)
    return resolve, ResolveScore(resolve, commands, root=tmp_path / "projects", log=log)


def _score_by_hand(session: ResolveScore, exported: Path) -> tuple[otio.schema.Timeline, list]:
    """A scored timeline as `vm-editor score` writes it, with real WAVs (no engine needed)."""
    timeline = read_timeline(exported)
    scenes = scoring.plan_cues(timeline, mode="per-clip", timeline_path=exported)
    folder = exported.with_name("cues")
    folder.mkdir()
    cues = cues_for(scenes, folder, handle_s=1.0)
    scored = add_score_track(timeline, scenes.scenes, cues)
    write_timeline_atomic(scored, session.scored_path, force=True)
    return scored, cues


@pytest.mark.parametrize("rate_text,start", [("23.976", 86400), ("25", 90000)])
def test_cues_land_at_their_record_frames(tmp_path, shots_video, rate_text, start):
    resolve, session = _session(tmp_path, shots_video, rate_text)
    exported = session.export()
    assert resolve.rec.named("Export") == [(str(exported), "EXPORT_OTIO", "EXPORT_NONE")]
    assert exported.parent == tmp_path / "projects" / "My Film"  # the project's folder, not /tmp
    _, cues = _score_by_hand(session, exported)

    summary = run(session, "update")

    assert summary == {"track": 3, "kept": 0, "removed": 0, "placed": 3}
    assert resolve.rec.named("AddTrack") == [("audio",)]
    assert resolve.rec.named("SetTrackName") == [("audio", 3, SCORE_TRACK_NAME)]
    assert resolve.rec.named("AddSubFolder") == [("Master", "VidMusician")]
    assert resolve.rec.named("ImportMedia") == [([c.wav_path for c in cues],)]
    (infos,) = resolve.rec.named("AppendToTimeline")[0]
    by_path = [(i["mediaPoolItem"].path, {k: v for k, v in i.items() if k != "mediaPoolItem"}) for i in infos]
    # the cut's clips are 28, 24 and 20 frames at the timeline's own rate, from its first frame
    assert by_path == [
        (
            cues[0].wav_path,
            {"startFrame": 0, "endFrame": 28, "mediaType": 2, "trackIndex": 3, "recordFrame": start},
        ),
        (
            cues[1].wav_path,
            {"startFrame": 0, "endFrame": 24, "mediaType": 2, "trackIndex": 3, "recordFrame": start + 28},
        ),
        (
            cues[2].wav_path,
            {"startFrame": 0, "endFrame": 20, "mediaType": 2, "trackIndex": 3, "recordFrame": start + 52},
        ),
    ]
    # running it again changes nothing: no import, no append, no delete
    before = len(resolve.rec.calls)
    assert run(session, "update") == {"track": 3, "kept": 3, "removed": 0, "placed": 0}
    assert not [
        c
        for c in resolve.rec.calls[before:]
        if c[1] in ("ImportMedia", "AppendToTimeline", "DeleteClips", "AddTrack")
    ]


def test_a_regenerated_take_replaces_its_clip(tmp_path, shots_video):
    resolve, session = _session(tmp_path, shots_video, "25")
    scored, cues = _score_by_hand(session, session.export())
    run(session, "update")
    old_item = resolve.timeline.audio[2]["items"][1]

    new_wav = session.folder / "cues" / "cue_001-take2.wav"
    samples = write_wav(new_wav, 24 / 25 + 1.0) - 48_000
    take2 = cues[1].__class__(
        **{**cues[1].__dict__, "wav_path": str(new_wav), "take": 2, "num_samples": samples}
    )
    write_timeline_atomic(replace_cue(scored, take2), session.scored_path, force=True)
    before = len(resolve.rec.calls)

    assert run(session, "update") == {"track": 3, "kept": 2, "removed": 1, "placed": 1}

    later = resolve.rec.calls[before:]
    assert [args for _, m, args in later if m == "DeleteClips"] == [([old_item], False)]
    assert [args for _, m, args in later if m == "ImportMedia"] == [([str(new_wav)],)]
    ((infos,),) = [args for _, m, args in later if m == "AppendToTimeline"]
    assert [(i["mediaPoolItem"].path, i["recordFrame"], i["endFrame"]) for i in infos] == [
        (str(new_wav), 90000 + 28, 24)
    ]
    paths = [i.GetMediaPoolItem().path for i in resolve.timeline.audio[2]["items"]]
    assert sorted(paths) == sorted([cues[0].wav_path, str(new_wav), cues[2].wav_path])


def test_append_returning_nothing_names_what_to_drag_where(tmp_path, shots_video):
    """Resolve's known AppendToTimeline bug: None, nothing placed. The track is read back and each
    cue is named with the bin, the track and the timecode to drag it to."""
    said = []
    resolve, session = _session(tmp_path, shots_video, "25", log=said.append)
    _, cues = _score_by_hand(session, session.export())
    resolve.project.pool.append_bug = "none"

    with pytest.raises(
        LauncherError, match=r"3 of 3 cue\(s\) not placed; drag them from the media pool bin 'VidMusician'"
    ):
        run(session, "update")

    text = "\n".join(said)
    assert "AppendToTimeline returned nothing (a known Resolve scripting bug)" in text
    names = [Path(c.wav_path).name for c in cues]
    assert f"cue 0: drag {names[0]} from the media pool bin 'VidMusician' to audio track 3 " in text
    # 25 fps from 01:00:00:00: the cuts at 28 and 52 frames
    for name, at in zip(names, ("01:00:00:00", "01:00:01:03", "01:00:02:02"), strict=True):
        assert (
            f"{name} from the media pool bin 'VidMusician' to audio track 3 'VidMusician score' at {at}"
            in text
        )
    assert resolve.timeline.audio[2]["items"] == []


def test_append_returning_none_but_placing_is_fine(tmp_path, shots_video):
    """The other face of the bug: None returned, the clips placed; reading the track back says so."""
    said = []
    resolve, session = _session(tmp_path, shots_video, "25", log=said.append)
    _score_by_hand(session, session.export())
    resolve.project.pool.append_bug = "silent"

    assert run(session, "update") == {"track": 3, "kept": 0, "removed": 0, "placed": 3}
    assert not [line for line in said if "AppendToTimeline" in line]


def test_main_prints_the_bug_message_in_the_console(tmp_path, shots_video, capsys):
    from ui.hosts.resolve_launch import main

    resolve, session = _session(tmp_path, shots_video, "23.976")
    _score_by_hand(session, session.export())
    resolve.project.pool.append_bug = "none"
    assert main({"resolve": resolve}, python=sys.executable, action="update", root=tmp_path / "projects") == 2
    out = capsys.readouterr().out
    assert "AppendToTimeline returned nothing" in out and "at 01:00:00:00 (28 frames)" in out
    assert out.strip().splitlines()[-1].startswith("VidMusician: error: 3 of 3 cue(s) not placed")


_CHILD = """
import sys, time, pathlib
print("starting engine...  40 %", end="\\r", flush=True)
print("starting engine...  40 %", end="\\r", flush=True)
print("starting engine... 100 %", flush=True)
print("[1/2] cue 0 (a): reading pictures...", file=sys.stderr, flush=True)
flag = pathlib.Path(sys.argv[1])
while not flag.exists():
    time.sleep(0.01)
print("error: cut.otio: clip 'b' is offline; relink it" if sys.argv[2] == "fail" else "wrote out", flush=True)
sys.exit(2 if sys.argv[2] == "fail" else 0)
"""


@pytest.mark.parametrize("ending", ["ok", "fail"])
def test_a_background_command_says_each_line_while_it_runs(tmp_path, ending):
    """Lines (stdout and stderr, a carriage return ending one) reach the log while the child still
    runs: here it cannot end before the test has seen its progress and made the flag file."""
    said = []
    flag = tmp_path / "go"
    job = BackgroundCommand([sys.executable, "-c", _CHILD, flag, ending], said.append)
    deadline = time.monotonic() + 30
    while len(said) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.running()
    assert said == [
        "starting engine...  40 %",
        "starting engine... 100 %",
        "[1/2] cue 0 (a): reading pictures...",
    ]
    flag.touch()
    commands = InstallCommands(sys.executable, log=lambda _: None)
    if ending == "ok":
        assert commands.finish_score(job, tmp_path / "x.scored.otio") == tmp_path / "x.scored.otio"
        assert said[-1] == "wrote out"
    else:
        with pytest.raises(LauncherError, match=r"^cut.otio: clip 'b' is offline; relink it$"):
            commands.finish_score(job, tmp_path / "x.scored.otio")


@pytest.mark.slow
def test_score_runs_this_install_and_places_the_cues(tmp_path, shots_video):
    """The whole launcher: export, `vm-editor score` (in-process, tiny) in the background with its
    progress said as it comes (the first cue's line seconds before the last line), placement."""
    said = []
    resolve, session = _session(
        tmp_path,
        shots_video,
        "25",
        score_args=("--in-process", "--cues", "per-clip"),
        log=lambda line: said.append((time.monotonic(), line)),
    )

    summary = run(session, "score")

    assert summary["placed"] == 3 and session.scored_path.is_file()
    first = next(t for t, line in said if line.startswith("[1/3]"))
    wrote = next(t for t, line in said if line.startswith("wrote "))
    assert wrote - first > 0.5, said  # streamed, not handed over whole at the end
    ((paths,),) = resolve.rec.named("ImportMedia")
    assert all(Path(p).is_file() and p.endswith(".wav") for p in paths) and len(paths) == 3
    ((infos,),) = resolve.rec.named("AppendToTimeline")
    assert [i["recordFrame"] for i in infos] == [90000, 90028, 90052]
    assert [i["endFrame"] for i in infos] == [28, 24, 20]


def test_errors_name_the_fix(tmp_path, shots_video, capsys):
    from ui.hosts.resolve_launch import main

    resolve, session = _session(tmp_path, shots_video, "25")
    assert main({"resolve": resolve}, python=sys.executable, action="update", root=tmp_path / "p") == 2
    assert "no scored timeline yet" in capsys.readouterr().out
    assert main({"resolve": resolve}, python=str(tmp_path / "nope"), action="score") == 2
    assert "install-host" in capsys.readouterr().out
