"""Errors for bad timelines and bad options; each message names the file/clip and the fix."""

from __future__ import annotations

from pathlib import Path


class EditorInputError(Exception):
    """Something the user can fix; the CLI prints it as one `error:` line and exits 2."""


class TimelineReadError(EditorInputError):
    """The timeline file is missing, in an unknown format, or does not parse."""


class NoVideoTrackError(EditorInputError):
    """The timeline has no (enabled) video track with clips to score."""


class OfflineMediaError(EditorInputError):
    """A clip's media file cannot be found; the message lists them and suggests --relink."""


class OutputExistsError(EditorInputError):
    """The output file already exists (or is the input); nothing is overwritten without --force."""


def timeline_label(timeline_name: str, timeline_path: Path | str | None) -> str:
    """What a message calls a timeline: the user's file when it came from one (the name inside an
    export, "Sequence 1" or "t", is not what the user knows), else the timeline's own name."""
    if timeline_path is not None:
        return str(timeline_path)
    return f"timeline {timeline_name!r}"
