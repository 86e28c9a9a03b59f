"""`vm-editor scenes --json` follows the contract of DESIGN.md §7 on a real timeline."""

from __future__ import annotations

import json
import subprocess
import sys

import opentimelineio as otio

from tests.timeline_builders import clip, gap, timeline_of, video_track


def test_scenes_json_contract(tmp_path, shots_video):
    rate = 25
    v1 = video_track(
        clip("wide", shots_video, 0, 30, rate, 75),
        gap(10, rate),
        clip("close", shots_video, 30, 45, rate, 75),
    )
    v1[2].markers.append(
        otio.schema.Marker(
            name="door slam",
            marked_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(40, rate), otio.opentime.RationalTime(1, rate)
            ),
        )
    )
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(v1, rate=rate), str(path))
    result = subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", "scenes", str(path), "--cues", "per-clip", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["rate"] == 25 and doc["track"] == "V1"
    assert abs(doc["duration_s"] - 85 / 25) < 1e-9
    wide, close = doc["scenes"]
    assert (wide["index"], wide["name"], wide["record_start_s"], wide["record_end_s"]) == (
        0,
        "wide",
        0.0,
        1.2,
    )
    assert (close["record_start_s"], close["record_end_s"]) == (40 / 25, 85 / 25)
    assert close["source"] == {"url": shots_video.resolve().as_uri(), "start_s": 1.2, "end_s": 3.0}
    assert close["markers_s"] == [40 / 25 + (40 - 30) / 25]
