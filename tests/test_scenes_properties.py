"""Property tests of the time mapping on random timelines: scenes tile exactly, nothing drifts."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.timeline_helpers import assert_tiles
from vm_editor.scenes import extract_scenes, to_engine_scene

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
RATES = [24.0, 24000 / 1001, 25.0, 30000 / 1001]


def clip(n, rate, speed=None, name="c"):
    c = otio.schema.Clip(
        name=name,
        media_reference=otio.schema.ExternalReference(target_url="file:///x.mov"),
        source_range=TR(RT(100, rate), RT(n, rate)),
    )
    if speed == 0:
        c.effects.append(otio.schema.FreezeFrame())
    elif speed is not None:
        c.effects.append(otio.schema.LinearTimeWarp(time_scalar=speed))
    return c


@st.composite
def timelines(draw):
    rate = draw(st.sampled_from(RATES))
    track = otio.schema.Track(name="V", kind=otio.schema.TrackKind.Video)
    kinds = draw(st.lists(st.sampled_from(["clip", "gap", "stack", "warp", "off"]), min_size=1, max_size=8))
    for i, kind in enumerate(kinds):
        n = draw(st.integers(1, 200))
        if kind == "gap":
            track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(n, rate))))
        elif kind == "stack":
            inner = otio.schema.Track(kind=otio.schema.TrackKind.Video)
            for _ in range(draw(st.integers(1, 3))):
                m = draw(st.integers(1, 60))
                inner.append(clip(m, draw(st.sampled_from([rate, 25.0, 60.0])), name=f"n{i}"))
            upper = otio.schema.Track(kind=otio.schema.TrackKind.Video)
            upper.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(draw(st.integers(0, 30)), rate))))
            upper.append(clip(draw(st.integers(1, 30)), rate, name=f"u{i}"))
            total = inner.duration().to_seconds()
            start = draw(st.integers(0, max(int(total * rate) - 1, 0)))
            length = draw(st.integers(1, max(int(total * rate) - start, 1)))
            stack = otio.schema.Stack(
                name=f"s{i}", children=[inner, upper], source_range=TR(RT(start, rate), RT(length, rate))
            )
            if draw(st.booleans()):
                scalar = draw(st.sampled_from([0.5, 2.0]))
                stack.effects.append(otio.schema.LinearTimeWarp(time_scalar=scalar))
            track.append(stack)
        else:
            c = clip(n, rate, draw(st.sampled_from([0, 0.5, 2.0, -1.0])) if kind == "warp" else None, f"c{i}")
            c.enabled = kind != "off"
            if len(track) and isinstance(track[-1], otio.schema.Clip) and draw(st.booleans()):
                k = min(track[-1].duration().value, n) // 2
                if k >= 1:
                    track.append(otio.schema.Transition(in_offset=RT(k, rate), out_offset=RT(k, rate)))
            track.append(c)
    tl = otio.schema.Timeline(global_start_time=RT(86400 if rate == 24 else 0, rate))
    tl.tracks.append(track)
    return tl


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timelines())
def test_scenes_tile_random_timelines(tl):
    track = tl.tracks[0]
    if not any(not isinstance(c, (otio.schema.Gap, otio.schema.Transition)) and c.enabled for c in track):
        return
    scenes = extract_scenes(tl)
    assert_tiles(scenes)
    # each scene lies inside the top-level item it comes from, and plain clips are exact
    for i, child in enumerate(track):
        if isinstance(child, otio.schema.Transition):
            continue
        r = track.range_of_child_at_index(i)
        lo, hi = round(r.start_time.value), round(r.end_time_exclusive().value)
        inside = [s for s in scenes.scenes if lo <= s.record_range.start_time.value < hi]
        for s in inside:
            assert s.record_range.end_time_exclusive().value <= hi
        if isinstance(child, otio.schema.Clip):
            if child.enabled:
                assert [(s.record_range.start_time.value, s.record_range.duration.value) for s in inside] == [
                    (lo, hi - lo)
                ]
            else:
                assert not inside
        if isinstance(child, otio.schema.Gap):
            assert not inside


@settings(max_examples=4, deadline=None)
@given(st.lists(st.integers(1, 500), min_size=300, max_size=300))
def test_no_drift_over_two_hours_at_23976(lengths):
    rate = 24000 / 1001
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    target = 2 * 3600 * 24000 // 1001  # two hours of frames
    scale = target / sum(lengths)
    frames = [max(1, round(n * scale)) for n in lengths]
    frames[-1] += target - sum(frames) if target - sum(frames) > -frames[-1] + 1 else 0
    for i, n in enumerate(frames):
        track.append(clip(n, rate, name=str(i)))
    tl = otio.schema.Timeline(global_start_time=RT(86400, 23.976))
    tl.tracks.append(track)
    scenes = extract_scenes(tl)
    cursor = 0
    for s, n in zip(scenes.scenes, frames, strict=True):
        assert s.record_range.start_time.value == cursor
        assert s.record_range.duration.value == n
        req = to_engine_scene(s)
        exact = Fraction(n * 1001, 24000)
        assert abs(Fraction(req.duration_s) - exact) < Fraction(1, 10**9)
        cursor += n
    last = scenes.scenes[-1].record_range.end_time_exclusive()
    assert abs(last.to_seconds() - sum(frames) * 1001 / 24000) < 1e-6
