"""Stills for the panel: the frame halfway through a range, as a small PNG; bad media is specific."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from engine.errors import MediaError
from engine.thumbnails import thumbnail_png


def test_thumbnail_is_the_middle_frame_at_the_asked_height(shots_video):
    first = Image.open(io.BytesIO(thumbnail_png(str(shots_video), 0.0, 1.2, height=48)))
    third = Image.open(io.BytesIO(thumbnail_png(str(shots_video), 2.2, 3.0, height=48)))
    assert first.size == (80, 48) and first.format == "PNG"
    assert first.convert("RGB").getpixel((5, 5)) != third.convert("RGB").getpixel((5, 5))  # other shots


def test_missing_media_is_a_media_error(tmp_path):
    with pytest.raises(MediaError, match="gone.mp4"):
        thumbnail_png(str(tmp_path / "gone.mp4"), 0, 1)
