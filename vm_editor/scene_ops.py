"""Options over a scene list: score a record range, merge adjacent scenes, split at markers,
move a cue's edge.

Pure functions; each returns a new SceneList, renumbered 0..n-1 (the cue index written into the
score's metadata is the index *after* these options, so `regenerate --cue K` finds it again).
Record times are frames at the list's rate, from the start of the track.
"""

from __future__ import annotations

import re
from dataclasses import replace

import opentimelineio as otio

from vm_editor import cue_plan
from vm_editor.errors import EditorInputError
from vm_editor.program import Program
from vm_editor.scenes import Scene, SceneList, SourceRef

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def parse_record_time(text: str, scene_list: SceneList) -> RationalTime:
    """'01:00:10:00' (timecode, read against the timeline's start), '240' (frames) or '10.5s'."""
    rate = scene_list.rate
    text = text.strip()
    try:
        if re.fullmatch(r"\d+:\d\d[:;]\d\d[:;]\d\d", text):
            t = otio.opentime.from_timecode(text, rate)
            start = scene_list.start_timecode
            if start is not None and t >= start.rescaled_to(rate):
                t = t - start.rescaled_to(rate)
            return RationalTime(round(t.value), rate)
        if text.endswith("s"):
            return RationalTime(round(float(text[:-1]) * rate), rate)
        return RationalTime(int(text), rate)
    except (ValueError, TypeError) as exc:
        raise EditorInputError(
            f"record time {text!r} is not a timecode (01:00:10:00), frames (240) or seconds (10.5s)"
        ) from exc


def _renumber(scene_list: SceneList, scenes: list[Scene]) -> SceneList:
    return replace(scene_list, scenes=tuple(replace(s, index=i) for i, s in enumerate(scenes)))


def _trim(scene: Scene, lo: float, hi: float) -> Scene:
    """The part of `scene` in record frames [lo, hi), its source range moved to match."""
    r = scene.record_range
    rate = r.start_time.rate
    a, b = max(r.start_time.value, lo), min(r.end_time_exclusive().value, hi)
    source = scene.source
    if source is not None:
        mr = source.media_range
        m_rate = mr.start_time.rate
        shift = (a - r.start_time.value) / rate * source.speed * m_rate
        length = max(round((b - a) / rate * source.speed * m_rate), 1)
        media = TimeRange(
            RationalTime(mr.start_time.value + round(shift), m_rate), RationalTime(length, m_rate)
        )
        source = SourceRef(source.url, source.path, media, source.speed)
    names = scene.marker_names or ("",) * len(scene.markers)
    keep = [(m, n) for m, n in zip(scene.markers, names, strict=True) if a <= m.value < b]
    return replace(
        scene,
        record_range=TimeRange(RationalTime(a, rate), RationalTime(b - a, rate)),
        source=source,
        markers=tuple(m for m, _ in keep),
        marker_names=tuple(n for _, n in keep),
        transition_in=scene.transition_in if a == r.start_time.value else None,
        transition_out=scene.transition_out if b == r.end_time_exclusive().value else None,
    )


def select_record_range(scene_list: SceneList, start: RationalTime, end: RationalTime) -> SceneList:
    """Only what lies in [start, end) of record time; scenes across the edges are trimmed."""
    lo, hi = start.rescaled_to(scene_list.rate).value, end.rescaled_to(scene_list.rate).value
    if not 0 <= lo < hi:
        raise EditorInputError(f"record range {lo:g}-{hi:g} frames is empty; give IN before OUT")
    scenes = [
        _trim(s, lo, hi)
        for s in scene_list.scenes
        if s.record_range.start_time.value < hi and s.record_range.end_time_exclusive().value > lo
    ]
    if not scenes:
        raise EditorInputError("the record range holds no scene; widen it or check the timecodes")
    return _renumber(scene_list, scenes)


def merge_scenes(scene_list: SceneList, first: int, last: int) -> SceneList:
    """Scenes first..last (indices, inclusive) become one cue spanning them and the gaps between.

    The merged scene follows the first scene's pictures; the inner cuts become hit points, so the
    music still marks them.
    """
    if not 0 <= first <= last < len(scene_list.scenes):
        raise EditorInputError(f"cannot merge scenes {first}-{last}: there are {len(scene_list.scenes)}")
    group = scene_list.scenes[first : last + 1]
    rate = scene_list.rate
    lo, hi = group[0].record_range.start_time, group[-1].record_range.end_time_exclusive()
    cuts = [s.record_range.start_time for s in group[1:]]
    markers = sorted({m.value for s in group for m in s.markers} | {c.value for c in cuts})
    merged = replace(
        group[0],
        name=" + ".join(s.name for s in group),
        record_range=TimeRange(lo, hi - lo),
        markers=tuple(RationalTime(v, rate) for v in markers),
        marker_names=(),
        transition_out=group[-1].transition_out,
    )
    scenes = list(scene_list.scenes[:first]) + [merged] + list(scene_list.scenes[last + 1 :])
    return _renumber(scene_list, scenes)


def merge_all(scene_list: SceneList) -> SceneList:
    """Every scene into one cue (a single piece of music under the whole track)."""
    return merge_scenes(scene_list, 0, len(scene_list.scenes) - 1) if scene_list.scenes else scene_list


def split_at_markers(scene_list: SceneList) -> SceneList:
    """Each marker inside a scene starts a new scene there (markers become scene boundaries)."""
    out: list[Scene] = []
    for s in scene_list.scenes:
        edges = [s.record_range.start_time.value]
        edges += [m.value for m in s.markers if m.value > edges[0]]
        edges.append(s.record_range.end_time_exclusive().value)
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if b > a:
                part = _trim(s, a, b)
                out.append(replace(part, markers=tuple(m for m in part.markers if m.value != a)))
    return _renumber(scene_list, out)


def split_scene(scene_list: SceneList, index: int, at: RationalTime) -> SceneList:
    """Scene `index` becomes two at `at` (record time, strictly inside the scene)."""
    if not 0 <= index < len(scene_list.scenes):
        raise EditorInputError(f"cannot split scene {index}: there are {len(scene_list.scenes)}")
    scene = scene_list.scenes[index]
    r = scene.record_range
    cut = at.rescaled_to(scene_list.rate).value
    if not r.start_time.value < cut < r.end_time_exclusive().value:
        raise EditorInputError(f"split point must be inside scene {scene.name!r}")
    parts = [
        replace(_trim(scene, r.start_time.value, cut), name=f"{scene.name} a"),
        replace(_trim(scene, cut, r.end_time_exclusive().value), name=f"{scene.name} b"),
    ]
    scenes = list(scene_list.scenes[:index]) + parts + list(scene_list.scenes[index + 1 :])
    return _renumber(scene_list, scenes)


def move_edge(scene_list: SceneList, program: Program, index: int, edge: str, at: RationalTime) -> SceneList:
    """Scene `index`'s start or end edge moves to record time `at` (what dragging a cue's edge
    does); a scene that touches that edge moves with it, so a boundary between two cues stays one.

    The scenes whose span changed are cut again from `program` (cue_plan.cue_scenes), so each
    follows exactly the pictures it now covers; the others are kept as they are.
    """
    scenes = list(scene_list.scenes)
    if not 0 <= index < len(scenes) or edge not in ("start", "end"):
        raise EditorInputError(f"cannot move the {edge} of scene {index}: there are {len(scenes)}")
    rate = program.rate
    spans = [
        (
            round(s.record_range.start_time.rescaled_to(rate).value),
            round(s.record_range.end_time_exclusive().rescaled_to(rate).value),
        )
        for s in scenes
    ]
    t = round(at.rescaled_to(rate).value)
    total = round(program.record.duration.value)
    changed = dict(enumerate(spans))
    lo, hi = spans[index]
    if edge == "end":
        after = spans[index + 1] if index + 1 < len(spans) else None
        touching = after is not None and after[0] == hi
        limit_ok = t < after[1] if touching else t <= (after[0] if after else total)
        if not (lo < t and limit_ok):
            raise EditorInputError(
                f"the end of {scenes[index].name!r} cannot move there: a cue keeps its length above 0 and does not overlap the next"
            )
        changed[index] = (lo, t)
        if touching:
            changed[index + 1] = (t, after[1])
    else:
        before = spans[index - 1] if index > 0 else None
        touching = before is not None and before[1] == lo
        limit_ok = t > before[0] if touching else t >= (before[1] if before else 0)
        if not (t < hi and limit_ok):
            raise EditorInputError(
                f"the start of {scenes[index].name!r} cannot move there: a cue keeps its length above 0 and does not overlap the previous"
            )
        changed[index] = (t, hi)
        if touching:
            changed[index - 1] = (before[0], t)
    for i, span in changed.items():
        if span != spans[i]:
            (recut,) = cue_plan.cue_scenes(program, [span]).scenes
            scenes[i] = recut
    return _renumber(scene_list, scenes)
