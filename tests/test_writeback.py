"""Write-back rules: placement, crossfades, takes, atomic write, never touching the input."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from tests.timeline_helpers import cues_for
from vm_editor.errors import OutputExistsError
from vm_editor.scene_ops import merge_scenes, parse_record_time, select_record_range, split_at_markers
from vm_editor.scenes import extract_scenes, offline_scenes, to_engine_scene
from vm_editor.timeline_io import read_timeline, write_timeline_atomic
from vm_editor.writeback import add_score_track, cue_metadata, replace_cue, score_track

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange


def _timeline(tmp_path):
    tl = otio.schema.Timeline(name="t", global_start_time=RT(86400, 24))
    v = otio.schema.Track(name="V1")
    for i, n in enumerate((48, 24, 72)):
        c = otio.schema.Clip(
            name=f"c{i}",
            media_reference=otio.schema.ExternalReference(target_url=f"file:///nowhere/c{i}.mov"),
            source_range=TR(RT(10, 24), RT(n, 24)),
        )
        if i == 2:
            c.markers.append(otio.schema.Marker(name="hit", marked_range=TR(RT(40, 24), RT(0, 24))))
        v.append(c)
    a = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    a.append(otio.schema.Gap(source_range=TR(RT(0, 24), RT(144, 24))))
    tl.tracks.extend([v, a])
    path = tmp_path / "in.otio"
    otio.adapters.write_to_file(tl, str(path))
    return path


def test_score_track_crossfades_takes_and_force(tmp_path):
    path = _timeline(tmp_path)
    before = path.read_bytes()
    tl = read_timeline(path)
    scenes = extract_scenes(tl, timeline_path=path)
    assert [s.name for s in scenes.scenes] == ["c0", "c1", "c2"]
    assert [s for s, _ in offline_scenes(scenes)] == ["c0", "c1", "c2"]
    assert to_engine_scene(scenes.scenes[2]).hit_points_s == (30 / 24,)
    assert to_engine_scene(scenes.scenes[0]).media is None  # offline: scored from no pictures
    hard = add_score_track(tl, scenes.scenes, cues_for(scenes, tmp_path), crossfade_s=0.5)
    assert not [c for c in hard.tracks[2] if isinstance(c, otio.schema.Transition)]  # no handle: cut
    scored = add_score_track(tl, scenes.scenes, cues_for(scenes, tmp_path, handle_s=1.0), crossfade_s=0.5)
    assert [t.name for t in scored.tracks] == ["V1", "A1", "VidMusician score"]
    fades = [c for c in scored.tracks[2] if isinstance(c, otio.schema.Transition)]
    # the dissolve starts at the cut and runs 0.5 s into the outgoing cue's 1 s handle
    assert len(fades) == 2 and [(f.in_offset.value, f.out_offset.value) for f in fades] == [(0, 12)] * 2
    music = scored.tracks[2]
    for i, child in enumerate(music):
        if isinstance(child, otio.schema.Transition):
            outgoing = music[i - 1]
            assert outgoing.trimmed_range().end_time_exclusive() + child.out_offset <= (
                outgoing.media_reference.available_range.end_time_exclusive()
            )
    out = tmp_path / "in.scored.otio"
    write_timeline_atomic(scored, out, input_path=path)
    with pytest.raises(OutputExistsError):
        write_timeline_atomic(scored, out, input_path=path)
    with pytest.raises(OutputExistsError):
        write_timeline_atomic(scored, path, input_path=path, force=True)
    assert path.read_bytes() == before
    back = read_timeline(out)
    new_take = cues_for(scenes, tmp_path / "..")[1]
    new_take = type(new_take)(**{**new_take.__dict__, "take": 2, "seed": 99})
    again = replace_cue(back, new_take)
    meta = cue_metadata(again)
    assert meta[1]["take"] == 2 and meta[1]["previous_takes"][0]["seed"] == 8
    takes = score_track(again, takes=True)
    assert takes is not None and [c.enabled for c in takes.find_clips()] == [False]
    assert takes.range_of_child_at_index(1).start_time.value == 48
    write_timeline_atomic(again, out, force=True)


def test_scene_options(tmp_path):
    scenes = extract_scenes(read_timeline(_timeline(tmp_path)))
    start, end = parse_record_time("01:00:01:00", scenes), parse_record_time("100", scenes)
    part = select_record_range(scenes, start, end)
    got = [(s.name, s.record_range.start_time.value, s.record_range.duration.value) for s in part.scenes]
    assert got == [("c0", 24, 24), ("c1", 48, 24), ("c2", 72, 28)]
    assert part.scenes[0].source.media_range.start_time.value == 10 + 24
    merged = merge_scenes(scenes, 0, 1)
    assert merged.scenes[0].record_range.duration.value == 72 and merged.scenes[0].markers[0].value == 48
    split = split_at_markers(scenes)
    assert [s.record_range.duration.value for s in split.scenes] == [48, 24, 30, 42]


def _all_takes(timeline):
    from vm_editor.writeback import METADATA_KEY, placed_clips, takes_tracks

    return [(r, c, c.metadata[METADATA_KEY]) for t in takes_tracks(timeline) for r, c in placed_clips(t)]


def test_every_earlier_take_stays_on_a_takes_track_and_inside_the_picture(tmp_path):
    import dataclasses

    from vm_editor.score_track import add_or_replace_score, read_score

    path = _timeline(tmp_path)
    tl = read_timeline(path)
    scenes = extract_scenes(tl, timeline_path=path)
    scored = add_score_track(tl, scenes.scenes, cues_for(scenes, tmp_path, handle_s=1.0))
    (tmp_path / "t2").mkdir()
    (tmp_path / "t3").mkdir()
    for take, folder in ((2, tmp_path / "t2"), (3, tmp_path / "t3")):  # cue 1 regenerated twice
        cue = dataclasses.replace(cues_for(scenes, folder, handle_s=1.0)[1], take=take, seed=20 + take)
        scored = replace_cue(scored, cue)
    (tmp_path / "t5").mkdir()
    rescored = add_or_replace_score(scored, scenes.scenes, cues_for(scenes, tmp_path / "t5", handle_s=1.0))
    takes = _all_takes(rescored)
    got = sorted((m["cue_index"], m["take"]) for _, _, m in takes)
    assert got == [(0, 1), (1, 1), (1, 2), (1, 3), (2, 1)]  # none only in metadata
    assert not any(c.enabled for _, c, _ in takes)
    assert [t.name for t in rescored.tracks[2:]] == [
        "VidMusician score",
        "VidMusician score takes",
        "VidMusician score takes 2",
        "VidMusician score takes 3",
    ]
    cue1 = next(c for c in read_score(rescored) if c.index == 1)
    assert [t["take"] for t in cue1.takes] == [1, 2, 3, 1]  # the panel lists all, current last

    # a ripple trim: c2 loses 40 frames, the picture now ends at 104; the score is redone
    video = rescored.tracks[0]
    last = video[2]
    last.source_range = TR(last.source_range.start_time, RT(32, 24))
    trimmed_path = tmp_path / "trimmed.otio"
    otio.adapters.write_to_file(rescored, str(trimmed_path))
    trimmed = read_timeline(trimmed_path)
    new_scenes = extract_scenes(trimmed, timeline_path=trimmed_path)
    (tmp_path / "t4").mkdir()
    again = add_or_replace_score(trimmed, new_scenes.scenes, cues_for(new_scenes, tmp_path / "t4"))
    takes = _all_takes(again)
    assert len(takes) == 5 + 3  # the three replaced cues joined the five takes
    assert all(r.end_time_exclusive().value <= 104 for r, _, _ in takes)
    assert all(c.trimmed_range().duration == r.duration for r, c, _ in takes)

    # a ripple delete of the last shot: its takes start where the picture now ends; they go under
    # the last cue, cut to it, every one of them kept
    del again.tracks[0][2]
    deleted_path = tmp_path / "deleted.otio"
    otio.adapters.write_to_file(again, str(deleted_path))
    deleted = read_timeline(deleted_path)
    last_scenes = extract_scenes(deleted, timeline_path=deleted_path)
    (tmp_path / "t6").mkdir()
    final = add_or_replace_score(deleted, last_scenes.scenes, cues_for(last_scenes, tmp_path / "t6"))
    takes = _all_takes(final)
    assert len(takes) == 8 + 3
    assert all(r.end_time_exclusive().value <= 72 for r, _, _ in takes)
    moved = [r for r, _, m in takes if m["cue_index"] == 2]
    assert moved and all((r.start_time.value, r.duration.value) == (48, 24) for r in moved)
