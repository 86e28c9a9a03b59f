"""The first `score` says it is starting the engine, with a percentage and the time left, measured
against how long the last start took here (not silence for 11 s)."""

from __future__ import annotations

import pytest

from tests.service_process import kill_engine_in
from vm_editor.cli import engine_start_line
from vm_editor.engine_client import START_TIME_FILE, ServiceEngine


def test_the_line_reads_as_a_person_expects():
    assert engine_start_line(3.0, 12.0) == "starting engine...  25 % (about 9 s left)"
    assert engine_start_line(11.9, 12.0) == "starting engine...  99 % (about 1 s left)"
    assert engine_start_line(10.4, 10.4) == "starting engine... 100 % (ready in 10.4 s)"


@pytest.mark.slow
def test_a_real_start_reports_progress_and_remembers_its_length(tmp_path):
    seen = []
    engine = ServiceEngine(tmp_path / "state", on_start=lambda e, x: seen.append((e, x)))
    try:
        assert engine.info() is not None
    finally:
        kill_engine_in(tmp_path / "state")
    assert seen and all(e < x for e, x in seen[:-1])  # never 100 % before it is ready
    last_elapsed, last_expected = seen[-1]
    assert last_elapsed == last_expected  # the final call: ready
    assert abs(float((tmp_path / "state" / START_TIME_FILE).read_text()) - last_elapsed) < 0.01
