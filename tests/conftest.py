"""Shared fixtures: real media generated with PyAV, real OTIO timelines that reference it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep the user's own caches, engine state and cue folder out of the tests (child processes too).
_SANDBOX = Path(tempfile.mkdtemp(prefix="vidmusician-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)  # every run made one and left it
for _name, _sub in (
    ("VIDMUSICIAN_CACHE_DIR", "cache"),
    ("VIDMUSICIAN_STATE_DIR", "state"),
    ("VIDMUSICIAN_CUE_ROOT", "cues"),
):
    os.environ.setdefault(_name, str(_SANDBOX / _sub))

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"real samples not present at {SAMPLES} (they live outside the repository)")
    return SAMPLES


def write_shots_video(
    path: Path,
    shot_lengths: list[int],
    *,
    fps: int = 25,
    size: tuple[int, int] = (160, 96),
    seed: int = 0,
) -> Path:
    """An H.264 file whose shots differ in colour and texture (hard cuts between them)."""
    import av

    rng = np.random.default_rng(seed)
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "12"}
        frame_index = 0
        for shot, length in enumerate(shot_lengths):
            base = rng.integers(0, 256, size=3)
            texture = rng.integers(0, 60, size=(height, width, 1))
            for i in range(length):
                img = np.clip(base[None, None, :] + texture + (i * 3) % 40, 0, 255).astype(np.uint8)
                img[:, (i * 4 + shot * 17) % width : (i * 4 + shot * 17) % width + 8] = 255 - base
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = frame_index
                frame_index += 1
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def shots_video(tmp_path_factory) -> Path:
    """3 s at 25 fps: shots of 30, 25 and 20 frames."""
    return write_shots_video(tmp_path_factory.mktemp("media") / "shots.mp4", [30, 25, 20])


def pytest_sessionfinish(session, exitstatus):
    """An engine a test's client started in the sandbox must not outlive the run."""
    from tests.service_process import kill_engine_in

    kill_engine_in(_SANDBOX / "state")


@pytest.fixture
def one_torch_thread():
    """Training tests on 2 shared cores: one torch thread is faster and steadier than two."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
