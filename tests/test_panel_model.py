"""The panel's view-model without Qt: labels, merge, split, locks, takes, export rules."""

from __future__ import annotations

import queue
import threading

import opentimelineio as otio
import pytest

from engine.api import ProgressEvent, ScoringCancelled
from engine.in_process import InProcessEngine
from tests.timeline_builders import clip, gap, timeline_of, video_track
from vm_editor import scoring
from vm_editor.errors import EditorInputError
from vm_editor.panel_model import PanelModel, PanelOptions


@pytest.fixture
def model(tmp_path, shots_video):
    rate = 30000 / 1001
    tl = timeline_of(
        video_track(
            clip("a", shots_video, 0, 30, rate, 75),
            clip("b", shots_video, 32, 20, rate, 75),  # not contiguous with a: its own shot
            gap(4, rate),
            clip("c", shots_video, 50, 25, rate, 75),
        ),
        rate=rate,
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(tl, str(path))
    m = PanelModel(InProcessEngine(), PanelOptions(cues="per-clip"))  # nothing loads until needed
    m.open(path)
    return m


def test_labels_use_drop_frame_timecode_at_2997(model):
    assert [model.row_label(i)["name"] for i in range(3)] == ["a", "b", "c"]
    assert model.row_label(1)["in"] == "00:00:01;00"
    assert model.row_label(2)["out"] == "00:00:02;19"


def test_merge_and_split_keep_the_track_tiled(model):
    events = []
    model.subscribe(events.append)
    model.merge([0, 1])  # as `--merge 0-1`: one cue over both shots, named as the CLI names it
    assert [r.scene.name for r in model.rows] == ["a … b", "c"]
    merged = model.rows[0].scene
    assert (merged.record_range.start_time.value, merged.record_range.duration.value) == (0, 50)
    assert [e.at.value for e in merged.program.edit_points] == [30]  # the inner cut is marked
    assert [r.settings.seed for r in model.rows] == [scoring.cue_seed(0, 0), scoring.cue_seed(0, 1)]
    model.split(0, 1.0)
    starts = [
        (r.scene.record_range.start_time.value, r.scene.record_range.duration.value) for r in model.rows
    ]
    assert starts == [(0, 30), (30, 20), (54, 25)]
    assert [r.scene.index for r in model.rows] == [0, 1, 2]
    assert [r.scene.name for r in model.rows] == ["a", "b", "c"]  # what the program shows there
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


def test_progress_events_map_to_rows_in_order(model):
    model.set_options(hits=False, stems=True)
    job = model.score_all()
    assert job.request.hits is False and job.request.stems is True
    assert [s.index for s in job.request.scenes] == [0, 1, 2]
    assert job.request.scenes[1].continue_from.scene_index == 0  # b continues a; c follows a gap
    assert job.request.scenes[2].continue_from is None
    assert job.request.cue_dir == str(model.cue_folder())  # in-process: beside the timeline
    job.inbox.put(ProgressEvent(1, 2, 3, "b", "generate", 0.5, 1.0))  # the second cue, half done
    model.poll()
    assert [r.state for r in model.rows] == ["queued", "running", "queued"]
    assert model.rows[1].progress == pytest.approx(0.5)
    assert model.overall_progress() == pytest.approx(0.5)
    job.inbox.put(ScoringCancelled())
    model.poll()
    assert [r.state for r in model.rows] == ["cancelled"] * 3 and not model.jobs


def test_a_cancelled_job_never_reaches_the_engine(model):
    job = model.score_all()
    model.cancel_all()
    model.run(job)  # what the panel runs on a worker thread
    model.poll()
    assert not model.jobs and [r.state for r in model.rows] == ["cancelled"] * 3
    assert not model.cue_folder().exists()


@pytest.mark.slow
def test_in_process_score_then_cancel_mid_generation(model):
    """Cues arrive on their "done" events; Esc during a cue's generation stops it, writes nothing."""
    model.select({1})
    job = model.submit([1])
    model.run(job)
    model.poll()
    assert model.rows[1].state == "done" and len(model.rows[1].takes) == 1
    cue = model.rows[1].cue
    assert cue.hits is True and cue.stems == {} and cue.wav_path.startswith(str(model.cue_folder()))
    written = sorted(model.cue_folder().glob("*.wav"))

    job = model.submit([0, 2])
    seen = threading.Event()

    class EscOnFirstGenerate(queue.SimpleQueue):
        """The job's inbox, with the user pressing Esc as the first cue starts generating."""

        def put(self, item, *args):
            super().put(item, *args)
            if isinstance(item, ProgressEvent) and item.stage == "generate" and not seen.is_set():
                seen.set()
                model.cancel_all()

    job.inbox = EscOnFirstGenerate()
    model.run(job)
    model.poll()
    assert seen.is_set() and not model.jobs
    assert [model.rows[p].state for p in (0, 2)] == ["cancelled", "cancelled"]
    assert sorted(model.cue_folder().glob("*.wav")) == written  # no partial cue
    assert model.status_text() == "Scoring cancelled: 0 of 2 cue(s) finished."  # not "Ready."
    assert model.overall_progress() < 1.0  # nor 100 %, though cue 1 has music


def test_moving_a_cue_edge_recuts_the_two_cues_from_the_program(model):
    """The boundary between a and b+c moves to c's first frame: b and the gap join a."""
    model.merge([1, 2])  # b, the gap and c: one cue over [30, 79)
    model.rows[0].takes.append(object())  # a take of cue a: it no longer fits once a grows
    model.rows[0].current_take = 0
    kept = model.rows[1].settings
    # a, b (another piece of the file), black, then c
    assert [e.at.value for e in model.program.edit_points] == [30, 50, 54]
    model.move_edge(0, "end", 54)
    spans = [
        (r.scene.record_range.start_time.value, r.scene.record_range.end_time_exclusive().value)
        for r in model.rows
    ]
    assert spans == [(0, 54), (54, 79)]
    assert model.rows[0].takes == [] and model.rows[1].settings is kept
    assert [s.is_black for s in model.rows[0].scene.program.segments] == [False, False, True]
    assert [s.name for s in model.rows[1].scene.program.pictures()] == ["c"]
    assert float(model.rows[1].scene.program.segments[0].source_in) == pytest.approx(50 / model.rate)
    with pytest.raises(EditorInputError, match="cannot move"):
        model.move_edge(0, "end", 79)  # would leave the second cue empty
    model.move_edge(1, "start", 30)  # and back: the boundary moves for both cues
    assert [r.scene.record_range.start_time.value for r in model.rows] == [0, 30]


def test_a_service_cue_moved_on_its_done_event_is_not_moved_again(tmp_path, shots_video):
    """The service writes in its own cue root; the panel moves each cue when its "done" event
    comes, and the job's outcome, which lists the same cue again, must not move it twice."""
    import soundfile

    from engine.api import CueResult, ScoreResult
    from vm_editor.engine_client import ServiceEngine

    tl = timeline_of(video_track(clip("a", shots_video, 0, 25, 25, 75)), rate=25)
    path = tmp_path / "one.otio"
    otio.adapters.write_to_file(tl, str(path))
    model = PanelModel(ServiceEngine(tmp_path / "state", start=False), PanelOptions(cues="per-clip"))
    model.open(path)
    service_root = tmp_path / "service-cues"
    service_root.mkdir()
    wav, tokens = service_root / "one_cue000_take1.wav", service_root / "one_cue000_take1.tokens.npy"
    soundfile.write(wav, [0.0] * 480, 48000)
    tokens.write_bytes(b"npy")
    cue = CueResult(
        0, "a", str(wav), 0.01, 480, 48000, "tiny", 0, None, 1, "h", "0", False, tokens_path=str(tokens)
    )
    job = model.score_all()
    job.inbox.put(ProgressEvent(0, 1, 1, "a", "done", 1.0, 0.1, cue))
    job.inbox.put(ScoreResult((cue,)))
    model.poll()
    assert not model.jobs and model.error is None
    assert len(model.rows[0].takes) == 1 and model.rows[0].state == "done"
    assert model.rows[0].cue.wav_path == str(model.cue_folder() / wav.name) and not wav.exists()


class _RecordingEngine:
    """Scores nothing: records the requests (the panel's --takes and regenerate rules)."""

    def __init__(self):
        self.requests = []

    def shot_pictures(self, shots):
        raise RuntimeError("no pictures here")  # the plan goes on without worlds

    def score(self, request, progress=None, cancel=None):
        from engine.api import ScoreResult

        self.requests.append(request)
        return ScoreResult(())


def test_takes_and_regenerate_follow_the_cli_rules(model):
    """--takes N in the panel asks N takes of every cue as `score --takes` (take k, seed + k - 1);
    Regenerate asks the next take by `scoring.next_take`, as `vm-editor regenerate` does."""
    engine = _RecordingEngine()
    model.engine = engine
    model.set_options(takes=3, seed=5)
    model.show(model.read(model.timeline_path))
    job = model.score_all()
    model.run(job)
    model.poll()
    assert [[s.take for s in r.scenes] for r in engine.requests] == [[1, 1, 1], [2, 2, 2], [3, 3, 3]]
    first = [s.seed for s in engine.requests[0].scenes]
    assert first == [scoring.cue_seed(5, i) for i in range(3)]
    assert [s.seed for s in engine.requests[2].scenes] == [(x + 2) % scoring.SEED_LIMIT for x in first]

    engine.requests.clear()
    model.select({1})
    model.run(model.regenerate_selected())
    (scene,) = engine.requests[0].scenes
    assert (scene.take, scene.seed) == scoring.next_take(0, first[1])
