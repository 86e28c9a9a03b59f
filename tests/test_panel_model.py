"""The panel's view-model without Qt: labels, merge, split, locks, takes, export rules."""

from __future__ import annotations

import dataclasses

import opentimelineio as otio
import pytest

from engine.api import ProgressEvent
from tests.timeline_builders import clip, gap, timeline_of, video_track
from vm_editor.errors import EditorInputError
from vm_editor.panel_model import PanelModel


@pytest.fixture
def model(tmp_path, shots_video):
    rate = 30000 / 1001
    tl = timeline_of(
        video_track(
            clip("a", shots_video, 0, 30, rate, 75),
            clip("b", shots_video, 30, 20, rate, 75),
            gap(4, rate),
            clip("c", shots_video, 50, 25, rate, 75),
        ),
        rate=rate,
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    m = PanelModel(engine=None)
    m.open(path)
    return m


def test_labels_use_drop_frame_timecode_at_2997(model):
    assert [model.row_label(i)["name"] for i in range(3)] == ["a", "b", "c"]
    assert model.row_label(1)["in"] == "00:00:01;00"
    assert model.row_label(2)["out"] == "00:00:02;19"


def test_merge_and_split_keep_the_track_tiled(model):
    events = []
    model.subscribe(events.append)
    model.merge([0, 1])
    assert [r.scene.name for r in model.rows] == ["a + b", "c"]
    merged = model.rows[0].scene
    assert (merged.record_range.start_time.value, merged.record_range.duration.value) == (0, 50)
    assert [m.value for m in merged.markers] == [30]  # the inner cut is a hit point
    model.split(0, 1.0)
    starts = [
        (r.scene.record_range.start_time.value, r.scene.record_range.duration.value) for r in model.rows
    ]
    assert starts == [(0, 30), (30, 20), (54, 25)]
    assert [r.scene.index for r in model.rows] == [0, 1, 2]
    assert events.count("scenes") == 2
    with pytest.raises(EditorInputError, match="adjacent"):
        model.merge([0, 2])
    with pytest.raises(EditorInputError, match="inside"):
        model.split(0, 5.0)


def test_locked_scenes_are_not_submitted_and_export_needs_cues(model, tmp_path):
    for row in model.rows:
        row.settings.locked = True
    assert model.score_all() is None  # nothing to do: the engine is never asked
    with pytest.raises(EditorInputError, match="score at least one"):
        model.export(tmp_path / "out.otio")
    with pytest.raises(EditorInputError, match="no take"):
        model.use_take(0, 3)


def test_roll_seed_changes_the_seed(model):
    before = model.rows[1].settings.seed
    rolled = [model.roll_seed(1) for _ in range(3)]
    assert model.rows[1].settings.seed == rolled[-1]
    assert len({before, *rolled}) > 1


def test_job_status_maps_to_rows_in_order(model):
    model.jobs["j"] = [0, 1, 2]
    event = ProgressEvent(1, 2, 3, "b", "generate", 0.5, 1.0)  # the job's second cue is generating
    job = {"id": "j", "status": "running", "progress": 0.5, "stage": "generate", "cues": []}
    model._absorb({**job, "event": dataclasses.asdict(event)})
    assert [r.state for r in model.rows] == ["queued", "running", "queued"]
    assert model.rows[1].progress == pytest.approx(0.5)
    assert model.overall_progress() == pytest.approx(0.5)
