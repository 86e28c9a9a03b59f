"""Decoding: frame-exact grid selection, awkward formats, and each bad input's own error."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine import errors
from engine.media import check_range, decode_grids, probe_media
from engine.preprocess import PreprocessConfig

# Identity normalisation: crops keep their raw values, easy to check.
PRE = PreprocessConfig(size=32, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


def write_video(
    path: Path,
    levels: list[int],
    *,
    fps: int = 10,
    codec: str = "ffv1",
    pix_fmt: str = "yuv444p",
    size: tuple[int, int] = (64, 48),
    pts_ms: list[int] | None = None,
    rotation: int | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Frame i is flat grey `levels[i]` (left half) and white (right half) to see orientation."""
    w, h = size
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=fps, options=options or {})
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, level in enumerate(levels):
            img = np.full((h, w, 3), level, np.uint8)
            img[:, w // 2 :] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def left_levels(grids, fps: float) -> list[int]:
    crops = grids.crops[grids.grids[fps]]
    return [int(round(c[:, :8].mean())) for c in crops]


def same_levels(got: list[int], want: list[int], atol: int = 3) -> bool:
    """YUV round trips move a flat grey by a level or two; frames here differ by >= 5."""
    return len(got) == len(want) and bool(np.all(np.abs(np.subtract(got, want)) <= atol))


LEVELS = [10 * (i + 1) for i in range(20)]  # 10 fps, 2.0 s


def test_grids_pick_the_frame_on_screen(tmp_path):
    path = write_video(tmp_path / "ten.mkv", LEVELS)
    got = decode_grids(str(path), 0.35, 1.5, (1, 25), PRE)
    # 25 fps times 0.35 + k/25: frame index floor(t * 10)
    want = [LEVELS[int(np.floor((0.35 + k / 25) * 10 + 1e-9))] for k in range(int(np.ceil(1.15 * 25)))]
    assert same_levels(left_levels(got, 25), want)
    assert same_levels(left_levels(got, 1), [LEVELS[3], LEVELS[13]])
    assert len(got.crops) == len(set(want))  # frames shared by both grids resized once


def test_seek_past_keyframes_is_frame_exact(tmp_path):
    levels = [(7 * i) % 250 + 5 for i in range(100)]
    path = write_video(
        tmp_path / "gop.mp4",
        levels,
        codec="libx264",
        pix_fmt="yuv444p",
        fps=25,
        options={"qp": "0", "g": "12", "bf": "2"},
    )
    got = decode_grids(str(path), 2.52, 3.0, (25,), PRE)
    assert same_levels(left_levels(got, 25), [levels[63 + k] for k in range(12)])


def test_variable_frame_rate(tmp_path):
    pts = [0, 40, 300, 310, 700, 1000]
    path = write_video(tmp_path / "vfr.mkv", LEVELS[:6], pts_ms=pts)
    got = decode_grids(str(path), 0.0, 1.0, (25,), PRE)
    times = np.arange(25) / 25
    want = [LEVELS[np.searchsorted(pts, t * 1000, side="right") - 1] for t in times]
    assert same_levels(left_levels(got, 25), want)


def test_rotation_metadata(tmp_path):
    path = write_video(
        tmp_path / "rot.mp4",
        LEVELS[:5],
        codec="libx264",
        pix_fmt="yuv420p",
        rotation=-90,
        size=(64, 32),
        options={"qp": "0"},
    )
    info = probe_media(str(path))
    assert (info.width, info.height, info.rotation) == (32, 64, -90)
    crop = decode_grids(str(path), 0, 0.5, (1,), PreprocessConfig(16, (0,) * 3, (1,) * 3)).crops[0]
    # shown rotated clockwise: the grey left half is now on top, the white half below
    assert crop[:4].mean() < 60 and crop[-4:].mean() > 200


@pytest.mark.parametrize(
    "codec,pix_fmt",
    [
        ("ffv1", "yuv420p10le"),
        ("ffv1", "gray"),
        ("ffv1", "yuv422p"),
        ("png", "rgb48be"),
        ("ffv1", "gray16le"),
    ],
)
def test_odd_and_high_bit_depth_formats(tmp_path, codec, pix_fmt):
    ext = "mov" if codec == "png" else "mkv"
    path = write_video(tmp_path / f"fmt-{pix_fmt}.{ext}", LEVELS[:4], codec=codec, pix_fmt=pix_fmt)
    assert probe_media(str(path)).pix_fmt == pix_fmt
    got = left_levels(decode_grids(str(path), 0, 0.4, (10,), PRE), 10)
    assert np.allclose(got, LEVELS[:4], atol=3)


def test_interlaced_is_deinterlaced(tmp_path):
    path = write_video(
        tmp_path / "int.mp4",
        LEVELS[:10],
        codec="libx264",
        pix_fmt="yuv420p",
        size=(64, 48),
        options={"x264-params": "interlaced=1:tff=1", "qp": "0"},
    )
    got = decode_grids(str(path), 0, 1.0, (10,), PRE)
    assert got.interlaced
    assert np.allclose(left_levels(got, 10), LEVELS[:10], atol=3)


def test_image_sequence(tmp_path):
    for i, level in enumerate(LEVELS[:8]):
        img = np.full((24, 32, 3), level, np.uint8)
        av.VideoFrame.from_ndarray(img, format="rgb24").to_image().save(tmp_path / f"shot.{i + 101:04d}.png")
    pattern = str(tmp_path / "shot.%04d.png")
    info = probe_media(pattern, sequence_rate=8)
    assert info.duration_s == pytest.approx(1.0) and info.fps == pytest.approx(8)
    got = decode_grids(pattern, 0.25, 0.75, (8,), PRE, sequence_rate=8)
    assert same_levels(left_levels(got, 8), LEVELS[2:6])


def test_native_sink_sees_every_frame_in_range(tmp_path):
    path = write_video(tmp_path / "ten.mkv", LEVELS)
    seen = []
    decode_grids(str(path), 0.35, 1.0, (1,), PRE, native_sink=lambda t, bgr: seen.append(round(t, 3)))
    assert seen == [0.0, 0.05, 0.15, 0.25, 0.35, 0.45, 0.55]


# ------------------------------------------------------------------------- bad input


def assert_error(exc_info, cls, path):
    assert type(exc_info.value) is cls
    assert str(path) in str(exc_info.value)


def test_missing_file(tmp_path):
    with pytest.raises(errors.MediaError) as exc:
        probe_media(str(tmp_path / "gone.mov"))
    assert_error(exc, errors.MediaNotFoundError, tmp_path / "gone.mov")
    assert "relink" in str(exc.value)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(errors.MediaError) as exc:
        probe_media(str(path))
    assert_error(exc, errors.MediaEmptyError, path)


def test_truncated_without_index(tmp_path):
    path = write_video(tmp_path / "t.mp4", LEVELS, codec="libx264", pix_fmt="yuv420p")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # moov (the index) is at the end: now missing
    with pytest.raises(errors.MediaError) as exc:
        probe_media(str(path))
    assert_error(exc, errors.MediaTruncatedError, path)


def test_truncated_mid_stream(tmp_path):
    levels = [(37 * i) % 200 + 20 for i in range(100)]
    path = write_video(
        tmp_path / "fs.mp4",
        levels,
        fps=25,
        codec="libx264",
        pix_fmt="yuv420p",
        size=(160, 120),
        options={"qp": "0"},
        container_options={"movflags": "+faststart"},
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    info = probe_media(str(path))  # the index survives and still promises 4 s
    assert info.duration_s == pytest.approx(4.0)
    with pytest.raises(errors.MediaError) as exc:
        decode_grids(str(path), 3.0, 4.0, (25,), PRE)
    assert_error(exc, errors.MediaTruncatedError, path)


def test_audio_only(tmp_path):
    path = tmp_path / "music.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    with pytest.raises(errors.MediaError) as exc:
        probe_media(str(path))
    assert_error(exc, errors.NoVideoStreamError, path)
    assert "audio" in str(exc.value)


def test_unknown_codec(tmp_path):
    path = write_video(tmp_path / "c.mp4", LEVELS, codec="libx264", pix_fmt="yuv420p")
    data = path.read_bytes()
    assert data.count(b"avc1") >= 1
    path.write_bytes(data.replace(b"avc1", b"zq9x").replace(b"avcC", b"zq9C"))
    with pytest.raises(errors.MediaError) as exc:
        probe_media(str(path))
    assert_error(exc, errors.UnsupportedCodecError, path)
    assert "transcode" in str(exc.value)


def test_not_media(tmp_path):
    path = tmp_path / "notes.mov"
    path.write_bytes(b"this is a text file, not a movie\n" * 20)
    with pytest.raises(errors.MediaError) as exc:
        probe_media(str(path))
    assert_error(exc, errors.MediaUnreadableError, path)


@pytest.mark.parametrize("start,end", [(1.0, 2.5), (2.5, 3.0), (1.0, 1.0), (1.5, 1.0), (-1.0, 1.0)])
def test_range_outside_media(tmp_path, start, end):
    path = write_video(tmp_path / "ten.mkv", LEVELS)
    info = probe_media(str(path))
    with pytest.raises(errors.MediaError) as exc:
        check_range(str(path), info, start, end)
    assert_error(exc, errors.MediaRangeError, path)


def test_range_ending_at_media_end_is_fine(tmp_path):
    path = write_video(tmp_path / "ten.mkv", LEVELS)
    info = probe_media(str(path))
    check_range(str(path), info, 0.0, info.duration_s)
    got = decode_grids(str(path), 1.5, 2.0, (10,), PRE)
    assert same_levels(left_levels(got, 10), LEVELS[15:20])
