"""Pictures of one clip: a world's shapes on its backgrounds, moving, cut, flashed on the plan.

Why: the rhythm a video model sees is frame-to-frame change. Between events the shapes move slowly
and smoothly (small frame differences); every event is a step change on its frame: a cut draws a
new shot, a flash blends the frame towards the world's flash colour, an accent makes the shapes
jump / grow / spin / change colour at once. So the events are exactly where the frame-difference
spikes are, and the world is recognisable from any single frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.corpus.plan import ClipPlan
from engine.corpus.worlds import World

FLASH_ALPHAS = (0.85, 0.35)  # blend towards the flash colour on the event frame and the next


@dataclass
class _Shape:
    x: float
    y: float
    r: float
    angle: float
    color: int
    phase: float
    dx: float = 0.0  # accent offsets: steps, constant between events
    dy: float = 0.0
    scale: float = 1.0


@dataclass
class _Shot:
    background: np.ndarray  # (H, W, 3) float32
    shapes: list[_Shape]
    start_s: float
    color_shift: int = 0


def _background(world: World, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    top, bottom = (
        np.asarray(c, np.float32) for c in world.backgrounds[int(rng.integers(len(world.backgrounds)))]
    )
    g = yy[..., None]
    img = top * (1.0 - g) + bottom * g
    if world.texture == "vignette":
        d = np.sqrt((xx - 0.5) ** 2 + (yy - 0.5) ** 2)[..., None]
        img = img * np.clip(1.2 - 1.2 * d, 0.3, 1.0)
    elif world.texture == "scanlines":
        img = img * np.where((np.arange(img.shape[0]) // 2) % 2 == 0, 1.0, 0.8)[:, None, None]
    elif world.texture == "checker":
        cells = ((xx * 8).astype(int) + (yy * 8).astype(int)) % 2
        img = img + 18.0 * cells[..., None]
    return img.astype(np.float32)


def _new_shot(world: World, rng: np.random.Generator, start_s: float, yy, xx) -> _Shot:
    count = int(rng.integers(world.shape_count[0], world.shape_count[1] + 1))
    shapes = [
        _Shape(
            x=float(rng.uniform(0.15, 0.85)),
            y=float(rng.uniform(0.15, 0.85)),
            r=float(rng.uniform(*world.shape_size)),
            angle=float(rng.uniform(0, np.pi)),
            color=int(rng.integers(len(world.colors))),
            phase=float(rng.uniform(0, 2 * np.pi)),
        )
        for _ in range(count)
    ]
    return _Shot(_background(world, rng, yy, xx), shapes, start_s)


def _position(world: World, s: _Shape, t: float) -> tuple[float, float]:
    """Slow continuous motion of one shape, `t` seconds into its shot (about 0.05 frame/s)."""
    if world.motion == "orbit":
        x, y = s.x + 0.07 * np.cos(0.8 * t + s.phase), s.y + 0.07 * np.sin(0.8 * t + s.phase)
    elif world.motion == "sway":
        x, y = s.x + 0.06 * np.sin(1.1 * t + s.phase), s.y
    elif world.motion == "float":
        x, y = s.x + 0.04 * np.sin(0.5 * t + s.phase), s.y - 0.03 * t
    elif world.motion == "march":
        x, y = s.x - 0.06 * t, s.y
    elif world.motion == "drift":
        x, y = s.x + 0.05 * t * np.cos(s.phase), s.y + 0.05 * t * np.sin(s.phase)
    else:
        raise ValueError(f"unknown motion {world.motion!r}")
    return (x + s.dx) % 1.0, (y + s.dy) % 1.0


def _mask(shape: str, yy, xx, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    dx, dy = (xx - cx + 0.5) % 1.0 - 0.5, (yy - cy + 0.5) % 1.0 - 0.5  # on a torus: wrapping is seamless
    if shape == "circle":
        return dx * dx + dy * dy < r * r
    if shape == "ring":
        d = np.sqrt(dx * dx + dy * dy)
        return np.abs(d - r) < 0.22 * r
    if shape == "bar":
        return (np.abs(dx) < r) & (np.abs(dy) < 0.35 + r)
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    if shape == "square":
        return (np.abs(u) < r) & (np.abs(v) < r)
    if shape == "triangle":  # three half-planes of an equilateral triangle of circumradius r
        return (v < r / 2) & (np.sqrt(3) * u - v < r) & (-np.sqrt(3) * u - v < r)
    raise ValueError(f"unknown shape {shape!r}")


def _window(center: float, half: float, size: int) -> np.ndarray:
    """Pixel indices (wrapping around the frame) that a shape of this extent can cover."""
    lo = int(np.floor((center - half) * size)) - 1
    hi = int(np.ceil((center + half) * size)) + 2
    return np.arange(lo, min(hi, lo + size)) % size


def _accent(world: World, shot: _Shot, rng: np.random.Generator, strength: float) -> None:
    for s in shot.shapes:
        if "jump" in world.accent_moves:
            s.dx += float(rng.choice([-1, 1]) * rng.uniform(0.08, 0.16) * (0.5 + strength))
            s.dy += float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.12) * (0.5 + strength))
        if "grow" in world.accent_moves:
            s.scale = 1.35 if s.scale < 1.1 else 0.85
        if "spin" in world.accent_moves:
            s.angle += np.pi / 5
    if "recolor" in world.accent_moves:
        shot.color_shift += 1


def render_video(
    plan: ClipPlan, world: World, fps: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[int]]:
    """Frames (T, size, size, 3) uint8 of `plan`, and the frame index of each plan event."""
    n_frames = int(round(plan.duration_s * fps))
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size
    yy, xx = np.meshgrid(axis, axis, indexing="ij")
    event_frames = [min(n_frames - 1, max(1, int(round(e.time_s * fps)))) for e in plan.events]
    by_frame = dict(zip(event_frames, plan.events, strict=True))
    colors = np.asarray(world.colors, np.float32)
    flash = np.asarray(world.flash_color, np.float32)

    shot = _new_shot(world, rng, 0.0, yy, xx)
    frames = np.empty((n_frames, size, size, 3), np.uint8)
    flash_left: list[float] = []
    for k in range(n_frames):
        t = k / fps
        ev = by_frame.get(k)
        if ev is not None:
            if ev.kind == "cut":
                shot = _new_shot(world, rng, t, yy, xx)
            elif ev.kind == "flash":
                flash_left = [a * (0.6 + 0.4 * ev.strength) for a in FLASH_ALPHAS]
            else:
                _accent(world, shot, rng, ev.strength)
        img = shot.background.copy()
        for s in shot.shapes:
            cx, cy = _position(world, s, t - shot.start_s)
            r = s.r * s.scale
            rows = _window(cy, 0.35 + r if world.shape == "bar" else 1.5 * r, size)
            cols = _window(cx, 1.5 * r, size)
            m = _mask(world.shape, axis[rows][:, None], axis[cols][None, :], cx, cy, r, s.angle)
            region = img[np.ix_(rows, cols)]
            region[m] = colors[(s.color + shot.color_shift) % len(colors)]
            img[np.ix_(rows, cols)] = region
        if flash_left:
            alpha = flash_left.pop(0)
            img = img * (1.0 - alpha) + flash * alpha
        frames[k] = np.clip(img, 0, 255).astype(np.uint8)
    return frames, event_frames
