"""What adapters print never reaches stdout; an EDL whose source and record spans disagree is read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def vm_editor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.samples
def test_kdenlive_scenes_json_is_clean_json():
    path = SAMPLES / "timelines" / "kdenlive_example_v240770.kdenlive"
    if not path.is_file():
        pytest.skip(f"{path} is absent (real editor exports live in shared/samples)")
    result = vm_editor("scenes", str(path), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # the adapter's deprecation banner went to stderr
    assert doc["scenes"] and doc["rate"] > 0
    assert "deprecated" in result.stderr


def test_adapter_prints_go_to_stderr_even_from_file_descriptor_1(capfd):
    import os

    from vm_editor.timeline_io import adapter_output_to_stderr

    with adapter_output_to_stderr():
        print("from print")
        os.write(1, b"from fd 1\n")
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert "from print" in err and "from fd 1" in err


def test_edl_source_record_mismatch_is_read_with_a_warning_naming_the_event():
    path = FIXTURES / "edl_2frame_mismatch.edl"
    result = vm_editor("scenes", str(path), "--rate", "25", "--cues", "per-clip", "--json")
    assert result.returncode == 0, result.stderr
    assert "warning: edl_2frame_mismatch.edl: event 002:" in result.stderr
    assert "record duration is used" in result.stderr
    doc = json.loads(result.stdout)
    spans = [(s["record_start_s"], s["record_end_s"]) for s in doc["scenes"]]
    assert spans == [(0.0, 4.0), (4.0, 8.0)]  # the record side wins: the cut stays at 4 s
    assert doc["duration_s"] == 8.0


def test_edl_fix_leaves_matching_and_speed_events_alone():
    from vm_editor.format_fixups import edl_record_durations

    text = (
        "001  AX       V     C        00:00:00:00 00:00:04:00 01:00:00:00 01:00:04:00\n"
        "002  AX       V     C        00:00:10:00 00:00:18:00 01:00:04:00 01:00:08:00\n"
        "M2   AX       050.0                00:00:10:00\n"
    )
    fixed, warnings = edl_record_durations(text, 25.0, "x.edl")
    assert fixed == text and warnings == []
