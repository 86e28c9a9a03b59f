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
    doc = json.loads(result.stdout)  # the adapter's deprecation banner stayed off stdout
    assert doc["scenes"] and doc["rate"] > 0
    assert "deprecated" not in result.stderr  # and off stderr: only our own lines go there


def test_adapter_prints_stay_off_the_terminal_even_from_file_descriptors(capfd, caplog):
    import logging
    import os

    from vm_editor.timeline_io import adapter_output_quiet

    with caplog.at_level(logging.DEBUG, logger="vm_editor.timeline_io"), adapter_output_quiet():
        print("from print")
        os.write(1, b"from fd 1\n")
        os.write(2, b"from fd 2\n")
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n" and err == ""
    logged = caplog.text
    assert "from print" in logged and "from fd 1" in logged and "from fd 2" in logged


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
