"""The service under bad input and faults: 4xx with one line, a body cap that stops reading,
write-time path checks, the user's umask, and nothing partial left after a failed write."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient

from engine.finishing import write_wav_atomic
from engine.safe_write import WriteFailed, WriteNotAllowed, confined_to, write_atomic
from engine.service.app import MAX_BODY_BYTES, create_app
from engine.service.paths import resolve_cue_dir
from engine.service.store import JobStore
from engine.service.worker import Worker
from tests.service_process import EngineProcess

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def client(tmp_path):
    (tmp_path / "cues").mkdir()
    store = JobStore(tmp_path / "state" / "jobs.sqlite")
    app = create_app(store, Worker(store), token=TOKEN, cue_root=tmp_path / "cues")
    with TestClient(app) as c:
        yield c
    store.close()


def one_line_4xx(response, *needles: str) -> str:
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and len(detail) <= 300, detail
    for needle in needles:
        assert needle in detail, detail
    return detail


def raw_job(scene: str = '{"index": 0, "duration_s": 1.0}', **fields: str) -> bytes:
    extra = "".join(f', "{k}": {v}' for k, v in fields.items())
    return f'{{"scenes": [{scene}]{extra}}}'.encode()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_4xx_naming_the_field(client, number):
    response = client.post("/jobs", headers=AUTH, content=raw_job(f'{{"index": 0, "duration_s": {number}}}'))
    one_line_4xx(response, "scenes.0.duration_s")
    hits = client.post(
        "/jobs", headers=AUTH, content=raw_job(f'{{"index": 0, "duration_s": 1, "hit_points_s": [{number}]}}')
    )
    one_line_4xx(hits, "hit points")


@pytest.mark.parametrize(
    "cue_dir,needle",
    [
        ('"a\\u0000b"', "NUL"),
        (json.dumps("x" * 300), "at most 255"),
        (json.dumps("/".join(["d" * 200] * 30)), "4096"),
        ('"bad\\udcffname"', "valid string"),
    ],
)
def test_bad_cue_dir_text_is_400(client, cue_dir, needle):
    one_line_4xx(client.post("/jobs", headers=AUTH, content=raw_job(cue_dir=cue_dir)), "cue_dir", needle)


def test_over_long_names_and_bad_text_are_4xx(client):
    long_name = json.dumps("é" * 100)  # 200 bytes: would make each cue's file name too long
    one_line_4xx(
        client.post("/jobs", headers=AUTH, content=raw_job(score_name=long_name)), "score_name", "120"
    )
    scene = '{"index": 0, "duration_s": 1.0, "name": "a\\udcffb"}'
    one_line_4xx(client.post("/jobs", headers=AUTH, content=raw_job(scene)), "scenes.0.name", "valid string")
    one_line_4xx(client.get("/jobs/%00x", headers=AUTH), "no job")


def test_548_scenes_answer_one_line_with_the_limit(client):
    scenes = [{"index": i, "name": f"clip {i}", "duration_s": 0.5, "hit_points_s": [0.1]} for i in range(548)]
    response = client.post("/jobs", headers=AUTH, json={"scenes": scenes})
    assert response.status_code == 422
    one_line_4xx(response, "scenes", "500", "548")


def test_chunked_body_over_the_cap_is_413(client):
    def chunks():
        for _ in range(64):
            yield b" " * 65536  # 4 MB in all, no Content-Length

    response = client.post("/jobs", headers=AUTH, content=chunks())
    assert response.status_code == 413 and str(MAX_BODY_BYTES) in response.json()["detail"]


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_chunked(url: str, token: str, megabytes: int) -> tuple[int, bytes]:
    """Stream `megabytes` of a JSON body without Content-Length; (MB sent, status line)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST /jobs HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())
    chunk = b"%x\r\n" % 1_048_576 + b"[" * 1_048_576 + b"\r\n"
    sent = 0
    try:
        for _ in range(megabytes):
            sock.sendall(chunk)
            sent += 1
    except OSError:
        pass  # the engine stopped reading and closed the connection: the point of the cap
    sock.settimeout(10)
    try:
        answer = sock.recv(4096)
    except OSError:
        answer = b""
    sock.close()
    return sent, answer.split(b"\r\n")[0]


@pytest.mark.slow
def test_a_300_mb_chunked_body_costs_the_engine_at_most_the_cap(tmp_path):
    proc = EngineProcess(tmp_path / "state", tmp_path / "cues").start()
    try:
        send_chunked(proc.url, proc.token, 3)  # the first request's one-off allocations
        before = rss_kb(proc.process.pid, "VmHWM")  # the peak: what the request cost at its worst
        sent, status = send_chunked(proc.url, proc.token, 300)
        grown_kb = rss_kb(proc.process.pid, "VmHWM") - before
        print(f"sent {sent} MB before the engine closed ({status!r}); resident memory grew {grown_kb} kB")
        assert sent < 300 and (status == b"" or b" 413 " in status)
        assert grown_kb * 1024 <= MAX_BODY_BYTES, f"grew {grown_kb} kB, cap {MAX_BODY_BYTES // 1024} kB"
        with proc.client() as c:
            assert c.get("/health").status_code == 200
    finally:
        proc.stop()


def test_a_symlink_swapped_in_after_submission_cannot_redirect_the_wav(tmp_path):
    root, outside = tmp_path / "cues", tmp_path / "outside"
    (root / "proj").mkdir(parents=True)
    outside.mkdir()
    accepted = resolve_cue_dir(root, "proj")  # what submission validated
    (root / "proj").rmdir()
    (root / "proj").symlink_to(outside)  # swapped in before the worker writes
    with confined_to(root), pytest.raises(WriteNotAllowed, match="symbolic link"):
        write_wav_atomic(accepted / "cue.wav", np.zeros(480, np.float32))
    assert list(outside.iterdir()) == []
    with confined_to(root), pytest.raises(WriteNotAllowed, match="outside"):
        write_wav_atomic(tmp_path / "elsewhere" / "cue.wav", np.zeros(480, np.float32))


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_cue_wavs_and_timelines_follow_the_umask(tmp_path, umask, mode):
    import opentimelineio as otio

    from vm_editor.timeline_io import write_timeline_atomic

    previous = os.umask(umask)
    try:
        with confined_to(tmp_path):
            wav = write_wav_atomic(tmp_path / "p" / "cue.wav", np.zeros(4800, np.float32))
        out = write_timeline_atomic(otio.schema.Timeline(name="t"), tmp_path / "t.otio")
    finally:
        os.umask(previous)
    assert wav.stat().st_mode & 0o777 == mode and out.stat().st_mode & 0o777 == mode
    assert soundfile.info(wav).frames == 4800


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    def full(handle):
        handle.write(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(WriteFailed, match="No space left"):
        write_atomic(tmp_path / "cue.wav", full)
    assert list(tmp_path.iterdir()) == []


_DISK_FULL = """
import resource, signal, sys
import numpy as np
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))  # the disk fills after 20 kB
from engine.finishing import write_wav_atomic
from vm_editor.timeline_io import write_timeline_atomic
import opentimelineio as otio
folder = Path(sys.argv[1])
try:
    write_wav_atomic(folder / "cue.wav", np.zeros(48000, np.float32))
except Exception as exc:
    print(type(exc).__name__, exc)
tl = otio.schema.Timeline(name="x" * 30000)
try:
    write_timeline_atomic(tl, folder / "cut.scored.otio")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_disk_full_as_a_real_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].startswith("WriteFailed") and lines[1].startswith("TimelineWriteError"), lines
    assert list(tmp_path.iterdir()) == []  # no partial WAV, no hidden temporary file


def test_cue_root_set_while_an_engine_runs_is_reported(tmp_path):
    from vm_editor.engine_client import EngineError, ServiceEngine

    proc = EngineProcess(tmp_path / "state", tmp_path / "cues").start()
    try:
        engine = ServiceEngine(tmp_path / "state", cue_root=tmp_path / "other")
        started = time.monotonic()
        with pytest.raises(EngineError, match="VIDMUSICIAN_CUE_ROOT"):
            engine.info()
        assert time.monotonic() - started < 30
        assert (
            ServiceEngine(tmp_path / "state", cue_root=tmp_path / "cues").info().version
        )  # the same root: attached
    finally:
        proc.stop()
