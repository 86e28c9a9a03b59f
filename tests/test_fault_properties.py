"""Property tests over the timeline readers: whatever the file holds, `vm-editor scenes` answers
exit 0, or exit 2 with exactly one `error:` line, within 10 s, and never a traceback.

Cases run in a child process (a crash in a C++ parser must fail the test, not kill pytest), which
reads generated files from a folder and reports one JSON line per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = [".otio", ".xml", ".fcpxml", ".edl", ".aaf", ".kdenlive", ".otioz"]
CASE_TIMEOUT_S = 10

_RUNNER = r"""
import contextlib, io, json, signal, sys, time
from pathlib import Path
from vm_editor.cli import main

class Hang(Exception):
    pass

def alarm(*_):
    raise Hang()

signal.signal(signal.SIGALRM, alarm)
for path in sorted(Path(sys.argv[1]).iterdir()):
    err = io.StringIO()
    started = time.monotonic()
    signal.alarm(int(sys.argv[2]))
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["scenes", str(path), "--json"])
    except Hang:
        code = "hang"
    except BaseException as exc:  # an escaped exception is a traceback for the user
        code = f"escaped {type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
    lines = [l for l in err.getvalue().splitlines() if l.strip() and not l.startswith("warning:")]
    print(json.dumps({"case": path.name, "code": code, "lines": lines[:3], "s": time.monotonic() - started}), flush=True)
"""


def run_cases(folder: Path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(folder), str(CASE_TIMEOUT_S)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1"),
    )
    assert result.returncode == 0, f"the reader process died ({result.returncode}): {result.stderr[-2000:]}"
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_contract(reports: list[dict], expected: int) -> None:
    assert len(reports) == expected
    for r in reports:
        assert r["code"] in (0, 2), r
        if r["code"] == 2:
            assert len(r["lines"]) == 1 and r["lines"][0].startswith("error: "), r
        assert "Traceback" not in " ".join(r["lines"]), r
        assert r["s"] < CASE_TIMEOUT_S, r


_finite = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False)
_sane = st.integers(0, 2000).map(float)
_any_number = st.one_of(
    _sane,
    _sane,
    _sane,
    _finite,
    st.sampled_from([0.0, -1.0, 1e300, float("nan"), float("inf"), -float("inf"), 23.976, 29.97]),
)
_names = st.text(min_size=0, max_size=20)


@st.composite
def otio_documents(draw) -> str:
    """Real OTIO structures with hostile numbers, names, nesting and metadata."""
    hostile = draw(st.booleans())  # half the documents are well formed, half carry bad numbers
    numbers = _any_number if hostile else _sane
    rate = draw(_any_number if hostile else st.sampled_from([24.0, 25.0, 30000 / 1001]))

    def time(value=None):
        return otio.opentime.RationalTime(draw(numbers) if value is None else value, rate)

    def item():
        kind = draw(st.sampled_from(["clip", "gap", "stack"]))
        source = otio.opentime.TimeRange(time(), time())
        if kind == "gap":
            return otio.schema.Gap(source_range=source)
        if kind == "stack":
            stack = otio.schema.Stack(name=draw(_names))
            track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
            track.append(otio.schema.Gap(source_range=source))
            stack.append(track)
            return stack
        reference = otio.schema.ExternalReference(
            target_url=draw(st.sampled_from(["file:///nowhere/a.mov", "", "not a url", "file:///dev/zero"])),
            available_range=otio.opentime.TimeRange(time(0), time()),
        )
        clip = otio.schema.Clip(name=draw(_names), media_reference=reference, source_range=source)
        clip.metadata["vidmusician"] = draw(
            st.one_of(st.none(), st.text(max_size=5), st.integers(-(2**63), 2**63 - 1))
        )
        return clip

    timeline = otio.schema.Timeline(name=draw(_names), global_start_time=time())
    for _ in range(draw(st.integers(0, 3))):
        track = otio.schema.Track(
            name=draw(_names), kind=draw(st.sampled_from(["Video", "Video", "Audio", "Other"]))
        )
        for _ in range(draw(st.integers(0, 4))):
            track.append(item())
        timeline.tracks.append(track)
    return otio.adapters.write_to_string(timeline, "otio_json")


@pytest.mark.slow
def test_generated_otio_documents_keep_the_error_contract(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    count = 0

    @given(doc=otio_documents())
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def collect(doc):
        nonlocal count
        (folder / f"case{count:04d}.otio").write_text(doc)
        count += 1

    collect()
    reports = run_cases(folder)
    assert_contract(reports, count)
    print(
        f"{count} generated OTIO documents: {sum(r['code'] == 0 for r in reports)} read, "
        f"{sum(r['code'] == 2 for r in reports)} refused with one line"
    )


@pytest.mark.slow
def test_random_bytes_in_every_format_keep_the_error_contract(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    count = 0
    heads = [
        b"",
        b"{",
        b"[",
        b"<?xml version='1.0'?>",
        b"<xmeml>",
        b"<fcpxml version='1.10'>",
        b"TITLE: x\n",
        b"PK\x03\x04",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"<mlt>",
    ]

    @given(suffix=st.sampled_from(SUFFIXES), head=st.sampled_from(heads), body=st.binary(max_size=2000))
    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def collect(suffix, head, body):
        nonlocal count
        (folder / f"case{count:04d}{suffix}").write_bytes(head + body)
        count += 1

    collect()
    reports = run_cases(folder)
    assert_contract(reports, count)
    print(f"{count} random-byte files over {len(SUFFIXES)} formats: all exit 0 or 2 with one line")
