"""How much one score may ask of the engine, checked on the editor side before any work.

Why: the engine refuses an over-size request too (engine.api's limits, enforced by the service),
but only once it arrives, after the plan (minutes for thousands of shots), and in the schema's
words. Checked here, first, the same numbers name the user's file, what is over and the fix, in
both modes (the in-process engine has no front door of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.api import (
    MAX_BODY_BYTES,
    MAX_HIT_POINTS,
    MAX_SCENE_S,
    MAX_SCENES,
    MAX_TEXT_CHARS,
    MAX_TOTAL_S,
    ScoreRequest,
    to_json,
)
from vm_editor.errors import EditorInputError

IN_PARTS = "score it in parts with --in/--out"


class RequestTooLargeError(EditorInputError):
    """The score would ask more of the engine than one request may hold."""


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 2 * 3600 else f"{seconds / 3600:.1f} hours"


def check_plan_size(where: Path | str, cues_at_least: int, total_s: float) -> None:
    """Before the engine is asked anything: at least `cues_at_least` cues lasting `total_s`."""
    if cues_at_least > MAX_SCENES:
        raise RequestTooLargeError(
            f"{where}: {cues_at_least} cues, more than the {MAX_SCENES} one score can hold; "
            f"{IN_PARTS}, or plan fewer, longer cues (--cues auto, --merge A-B)"
        )
    if total_s > MAX_TOTAL_S:
        raise RequestTooLargeError(
            f"{where}: its cues last {_minutes(total_s)} together, more than the "
            f"{MAX_TOTAL_S / 3600:g} hours one score can hold; {IN_PARTS}"
        )


def check_request_size(where: Path | str, request: ScoreRequest) -> None:
    """The request about to be sent: every limit the engine holds it to, in plain words."""
    scenes = request.scenes
    check_plan_size(where, len(scenes), sum(s.duration_s for s in scenes))
    for scene in scenes:
        cue = f"{where}: cue {scene.index} ({_short(scene.name)})"
        if scene.duration_s > MAX_SCENE_S:
            raise RequestTooLargeError(
                f"{cue} lasts {_minutes(scene.duration_s)}, more than the {MAX_SCENE_S / 60:g} min one "
                "cue can; split it (--cues auto or per-clip, --split-at-markers) or score part with --in/--out"
            )
        if len(scene.hit_points_s) > MAX_HIT_POINTS:
            raise RequestTooLargeError(
                f"{cue} holds {len(scene.hit_points_s)} markers, more than the {MAX_HIT_POINTS} one cue "
                "can; remove markers in the editor or split the cue (--split-at-markers)"
            )
        if len(scene.name) > MAX_TEXT_CHARS:
            raise RequestTooLargeError(
                f"{cue}: its clip's name has {len(scene.name)} characters, more than {MAX_TEXT_CHARS}; "
                "rename the clip in the editor"
            )
    prompts = [request.prompt, *(s.prompt for s in scenes)]
    longest = max((len(p) for p in prompts if p), default=0)
    if longest > MAX_TEXT_CHARS:
        raise RequestTooLargeError(
            f"{where}: the prompt has {longest} characters, more than {MAX_TEXT_CHARS}; shorten --prompt"
        )


def check_body_size(where: Path | str, request: ScoreRequest) -> None:
    """The request as the service receives it (JSON): within the body the engine reads."""
    size = len(to_json(request).encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise RequestTooLargeError(
            f"{where}: its {len(request.scenes)} cues hold too many shots for one request "
            f"({size / 1e6:.1f} MB, at most {MAX_BODY_BYTES / 1e6:g} MB); {IN_PARTS}, or score it "
            "with --in-process"
        )


def _short(name: str, limit: int = 40) -> str:
    return repr(name if len(name) <= limit else name[: limit - 3] + "...")


def least_cue_count(count: int, merges: Sequence[tuple[int, int]], merge_all: bool) -> int:
    """The fewest cues a plan of `count` spans can end with once `merges` (A..B pairs) apply;
    the engine's splits (worlds, meaning changes) only add cues."""
    if merge_all:
        return min(count, 1)
    return max(count - sum(max(last - first, 0) for first, last in merges), min(count, 1))
