"""Pictures of an edit: each shot a fresh view of its world, hard cuts, dissolves, flashes, jolts.

Why: the rhythm a video model sees is frame-to-frame change. Inside a shot the shapes move slowly
(small differences); a hard cut is a new background and new shapes on one frame (a spike), a
dissolve blends two shots over its span (no spike), a flash blends towards the world's flash
colour for two frames, a motion accent makes every shape jump at once. Each world differs in
palette, shape, motion and texture, so a single frame tells which world (and style) it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.corpus.shots import VIDEO_FPS, Edit
from engine.corpus.style_worlds import StyleWorld, world_for

FLASH_ALPHAS = (0.8, 0.35)


@dataclass
class _Shape:
    x: float
    y: float
    r: float
    angle: float
    color: int
    phase: float
    dx: float = 0.0
    dy: float = 0.0


@dataclass
class _Shot:
    world: StyleWorld
    background: np.ndarray
    shapes: list[_Shape]
    start: int  # video frame
    look: int  # which of the world's backgrounds (the next shot of the same world takes another)
    tilt: float  # gradient tilt (alternates sign from shot to shot)


def _texture(img: np.ndarray, texture: str, yy, xx, rng) -> np.ndarray:
    size = img.shape[0]
    if texture == "scanlines":
        img = img * np.where((np.arange(size) // 2) % 2 == 0, 1.0, 0.75)[:, None, None]
    elif texture == "grid":
        line = ((xx * 10) % 1.0 < 0.08) | ((yy * 10) % 1.0 < 0.08)
        img = img + 45.0 * line[..., None]
    elif texture == "stripes":
        img = img * (0.85 + 0.15 * np.sin(yy * 2 * np.pi * 6))[..., None]
    elif texture == "checker":
        cells = ((xx * 6).astype(int) + (yy * 6).astype(int)) % 2
        img = img + 22.0 * cells[..., None]
    elif texture == "grain":
        img = img + rng.normal(0.0, 9.0, size=img.shape[:2])[..., None]
    elif texture == "diagonal":
        img = img * (0.7 + 0.3 * (((xx + yy) * 8) % 1.0 < 0.5))[..., None]
    return img.astype(np.float32)


def _new_shot(world: StyleWorld, start: int, rng, yy, xx, previous: _Shot | None = None) -> _Shot:
    same = previous is not None and previous.world is world
    choices = [i for i in range(len(world.backgrounds)) if not same or i != previous.look]
    look = choices[int(rng.integers(len(choices)))]
    top, bottom = (np.asarray(c, np.float32) for c in world.backgrounds[look])
    tilt = float(rng.uniform(0.15, 0.35)) * (1 if previous is None or previous.tilt < 0 else -1)
    g = np.clip(yy + tilt * (xx - 0.5), 0, 1)[..., None]
    background = _texture(top * (1.0 - g) + bottom * g, world.texture, yy, xx, rng)
    count = int(rng.integers(world.shape_count[0], world.shape_count[1] + 1))
    shapes = [
        _Shape(
            float(rng.uniform(0.1, 0.9)),
            float(rng.uniform(0.2, 0.8)),
            float(rng.uniform(*world.shape_size)),
            float(rng.uniform(0, np.pi)),
            int(rng.integers(len(world.colors))),
            float(rng.uniform(0, 2 * np.pi)),
        )
        for _ in range(count)
    ]
    return _Shot(world, background, shapes, start, look, tilt)


def _position(world: StyleWorld, s: _Shape, t: float) -> tuple[float, float]:
    v, m = world.speed, world.motion
    if m == "rise":
        x, y = s.x, s.y - 0.03 * v * t
    elif m == "drift":
        x, y = s.x + 0.04 * v * t * np.cos(s.phase), s.y + 0.04 * v * t * np.sin(s.phase)
    elif m == "sway":
        x, y = s.x + 0.06 * v * np.sin(1.1 * t + s.phase), s.y
    elif m == "orbit":
        x, y = s.x + 0.08 * np.cos(0.9 * v * t + s.phase), s.y + 0.08 * np.sin(0.9 * v * t + s.phase)
    elif m == "march":
        x, y = s.x - 0.06 * v * t, s.y
    elif m == "bob":
        x, y = s.x + 0.01 * t, s.y + 0.04 * v * np.sin(2.0 * t + s.phase)
    elif m == "float":
        x, y = s.x + 0.03 * np.sin(0.4 * t + s.phase), s.y + 0.02 * np.sin(0.3 * t + s.phase)
    elif m == "rush":
        x, y = s.x + 0.09 * v * t, s.y + 0.03 * v * t
    else:
        raise ValueError(f"unknown motion {m!r}")
    return (x + s.dx) % 1.0, (y + s.dy) % 1.0


def _mask(shape: str, yy, xx, cx, cy, r, angle) -> np.ndarray:
    dx, dy = (xx - cx + 0.5) % 1.0 - 0.5, (yy - cy + 0.5) % 1.0 - 0.5
    if shape == "circle":
        return dx * dx + dy * dy < r * r
    if shape == "ring":
        return np.abs(np.sqrt(dx * dx + dy * dy) - r) < 0.2 * r
    if shape == "blob":
        return (dx / 1.7) ** 2 + dy * dy < r * r
    if shape == "bar":
        return (np.abs(dx) < r) & (np.abs(dy) < 0.3 + r)
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    if shape == "square":
        return (np.abs(u) < r) & (np.abs(v) < r)
    if shape == "diamond":
        return np.abs(u) + np.abs(v) < r
    if shape == "slash":
        return (np.abs(u) < 1.8 * r) & (np.abs(v) < 0.3 * r)
    if shape == "triangle":
        return (v < r / 2) & (np.sqrt(3) * u - v < r) & (-np.sqrt(3) * u - v < r)
    raise ValueError(f"unknown shape {shape!r}")


def _window(center: float, half: float, size: int) -> np.ndarray:
    lo = int(np.floor((center - half) * size)) - 1
    hi = int(np.ceil((center + half) * size)) + 2
    return np.arange(lo, min(hi, lo + size)) % size


def _draw(shot: _Shot, k: int, axis: np.ndarray) -> np.ndarray:
    world, size = shot.world, len(axis)
    img = shot.background.copy()
    colors = world.colors
    t = (k - shot.start) / VIDEO_FPS
    for s in shot.shapes:
        cx, cy = _position(world, s, t)
        reach = (
            (0.3 + s.r)
            if world.shape == "bar"
            else (1.9 * s.r if world.shape in ("slash", "blob") else 1.5 * s.r)
        )
        rows = _window(cy, reach, size)
        cols = _window(cx, 1.9 * s.r if world.shape in ("slash", "blob") else 1.5 * s.r, size)
        m = _mask(world.shape, axis[rows][:, None], axis[cols][None, :], cx, cy, s.r, s.angle)
        region = img[np.ix_(rows, cols)]
        region[m] = colors[s.color]
        img[np.ix_(rows, cols)] = region
    if world.texture == "letterbox":
        bar = int(0.12 * size)
        img[:bar] = 0
        img[size - bar :] = 0
    return img


def render_edit(edit: Edit, size: int, rng: np.random.Generator) -> np.ndarray:
    """Frames (T, size, size, 3) uint8 at 25 fps of `edit`."""
    n = edit.num_video_frames
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size
    yy, xx = np.meshgrid(axis, axis, indexing="ij")
    shots = [_new_shot(world_for(edit.world_at(0)), 0, rng, yy, xx)]
    for t in edit.transitions:
        shots.append(_new_shot(world_for(edit.world_at(t.frame)), t.start, rng, yy, xx, shots[-1]))
    events = {e.frame: e for e in edit.events}
    frames = np.empty((n, size, size, 3), np.uint8)
    current, flash_left = 0, []
    for k in range(n):
        while current + 1 < len(shots) and edit.transitions[current].end <= k:
            current += 1
        shot = shots[current]
        ev = events.get(k)
        if ev is not None:
            if ev.kind == "flash":
                flash_left = list(FLASH_ALPHAS)
            else:  # a camera jolt: the whole picture shifts and every shape jumps
                jolt = int(rng.integers(size // 6, size // 3)) * int(rng.choice([-1, 1]))
                shot.background = np.roll(shot.background, jolt, axis=(0, 1))
                for s in shot.shapes:
                    s.dx += float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.18))
                    s.dy += float(rng.choice([-1, 1]) * rng.uniform(0.06, 0.12))
                    s.angle += np.pi / 4
        img = _draw(shot, k, axis)
        if current + 1 < len(shots):
            t = edit.transitions[current]
            if t.kind == "dissolve" and t.start <= k < t.end:
                alpha = (k - t.start + 1) / (t.end - t.start + 1)
                img = img * (1.0 - alpha) + _draw(shots[current + 1], k, axis) * alpha
        if flash_left:
            a = flash_left.pop(0)
            img = img * (1.0 - a) + np.asarray(shot.world.flash_color, np.float32) * a
        frames[k] = np.clip(img, 0, 255).astype(np.uint8)
    return frames
