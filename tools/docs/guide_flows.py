"""The user guide's editor round trips, as data, and the short cut each one starts from.

One `Flow` per section of docs/user-guide.md: what the editor exports, what runs, what comes
back and where the WAVs land. `write_cut` writes a real file in that editor's exchange format
(the OTIO adapters, our FCPXML text, Hiero's sequence description through `host_bridge`) over
shots of real footage, so `tools.docs.guide_pictures` can score it for real and photograph the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from vm_editor.host_bridge import timeline_from_sequence

RATE = 25  # bikes.mp4 (the footage) is 25 fps
RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


@dataclass(frozen=True)
class Flow:
    key: str  # file names: docs/guide/<key>-panel.png, <key>-flow.png
    section: str  # the heading in docs/user-guide.md, exactly
    editor: str  # the editor's short name, as a diagram says it
    suffix: str  # what the editor hands us
    # which shots of the footage, in cut order (0 = the first); never two in a row that follow
    # each other in the footage, which would be one continuous clip (one cue under --cues per-clip)
    shots: tuple[int, ...]
    export: str  # the step in the editor that makes the file
    runner: str  # who runs `vm-editor score` in the editor's flow, or what else can
    back: str  # what the editor imports or opens
    rate_option: tuple[str, ...] = ()  # what `score` needs besides the file (EDL: --rate)

    @property
    def cut_name(self) -> str:
        return f"{self.key}_cut{self.suffix}"


FLOWS: tuple[Flow, ...] = (
    Flow(
        "resolve",
        "DaVinci Resolve (18.5 or later)",
        "Resolve",
        ".otio",
        (1, 0, 3, 2),
        "Workspace › Scripts › Utility › VidMusician Score (exports the timeline as .otio)",
        "in Resolve, the script runs it",
        "the script adds the track VidMusician score; WAVs in the bin VidMusician",
    ),
    Flow(
        "hiero",
        "Hiero / Nuke Studio",
        "Hiero",
        ".otio",
        (3, 1, 4),
        "Window › VidMusician › Score sequence (the dock writes the sequence as .otio)",
        "in Hiero, the dock runs it",
        "the dock adds the track VidMusician score (one undo step)",
    ),
    Flow(
        "premiere",
        "Premiere Pro",
        "Premiere Pro",
        ".xml",
        (2, 0, 3),
        "File › Export › Final Cut Pro XML…",
        "or vm-editor watch FOLDER",
        "File › Import the .scored.xml: a sequence with the score track",
    ),
    Flow(
        "finalcut",
        "Final Cut Pro",
        "Final Cut Pro",
        ".fcpxml",
        (3, 0, 2),
        "File › Export XML… (FCPXML)",
        "or vm-editor watch FOLDER",
        "File › Import › XML… the .scored.fcpxml: the score as connected clips",
    ),
    Flow(
        "avid",
        "Avid Media Composer",
        "Media Composer",
        ".edl",
        (4, 2, 1),
        "File › Output › List Tool: a CMX 3600 EDL (it records no frame rate)",
        "or vm-editor watch FOLDER --rate 25",
        "an EDL cannot hold the music: import the WAVs into a bin, cut them in at the cue timecodes",
        ("--rate", str(RATE)),
    ),
    Flow(
        "kdenlive",
        "Kdenlive",
        "Kdenlive",
        ".kdenlive",
        (0, 2, 4),
        "File › Save the project (.kdenlive)",
        "or vm-editor watch FOLDER",
        "open the .scored.kdenlive: the score is an audio track",
    ),
)


def shot_bounds(duration_s: float, cuts_s: list[float]) -> list[tuple[int, int]]:
    """(first frame, end frame) of each shot of the footage at RATE."""
    total = int(round(duration_s * RATE))
    frames = sorted({0, total, *(int(round(t * RATE)) for t in cuts_s if 0 < t * RATE < total)})
    return list(zip(frames[:-1], frames[1:], strict=True))


def _pieces(flow: Flow, bounds: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    return [(f"shot {i + 1}", *bounds[i]) for i in flow.shots]


def _timeline(flow: Flow, media: Path, total: int, pieces) -> otio.schema.Timeline:
    available = TimeRange(RationalTime(0, RATE), RationalTime(total, RATE))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for name, start, end in pieces:
        track.append(
            otio.schema.Clip(
                name=name,
                media_reference=otio.schema.ExternalReference(
                    target_url=media.resolve().as_uri(), available_range=available
                ),
                source_range=TimeRange(RationalTime(start, RATE), RationalTime(end - start, RATE)),
            )
        )
    timeline = otio.schema.Timeline(name=f"{flow.key} cut", global_start_time=RationalTime(0, RATE))
    timeline.tracks.append(track)
    return timeline


def _fcpxml(media: Path, total: int, pieces) -> str:
    """A Final Cut 1.10 project starting at 01:00:00:00, as Final Cut exports one."""
    offset, spine = 3600 * RATE, []
    for name, start, end in pieces:
        spine.append(
            f'<asset-clip ref="r2" offset="{offset}/{RATE}s" name="{name}" start="{start}/{RATE}s" '
            f'duration="{end - start}/{RATE}s"/>'
        )
        offset += end - start
    length = offset - 3600 * RATE
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.10"><resources>'
        f'<format id="r1" name="FFVideoFormat1080p{RATE}" frameDuration="100/{RATE * 100}s"/>'
        f'<asset id="r2" name="{media.stem}" start="0s" duration="{total}/{RATE}s" hasVideo="1" '
        f'format="r1"><media-rep kind="original-media" src="{media.resolve().as_uri()}"/></asset>'
        '</resources><library><event name="Guide"><project name="finalcut cut">'
        f'<sequence format="r1" duration="{length}/{RATE}s" tcStart="3600s" tcFormat="NDF">'
        f"<spine>{''.join(spine)}</spine></sequence></project></event></library></fcpxml>\n"
    )


def _hiero_sequence(flow: Flow, media: Path, total: int, pieces) -> dict:
    """The plain description the Hiero dock hands `host_bridge sequence-otio` (inclusive outs)."""
    items, cursor = [], 0
    for name, start, end in pieces:
        items.append(
            {
                "name": name,
                "path": str(media.resolve()),
                "timeline_in": cursor,
                "timeline_out": cursor + end - start - 1,
                "source_in": start,
                "source_out": end - 1,
                "media_duration": total,
            }
        )
        cursor += end - start
    return {"name": f"{flow.key} cut", "rate": RATE, "tracks": [{"name": "V1", "items": items}]}


def write_cut(flow: Flow, media: Path, duration_s: float, cuts_s: list[float], folder: Path) -> Path:
    """The file `flow`'s editor would hand us: shots of `media` back to back, in its format."""
    bounds = shot_bounds(duration_s, cuts_s)
    total = bounds[-1][1]
    pieces = _pieces(flow, bounds)
    path = folder / flow.cut_name
    if flow.suffix == ".fcpxml":
        path.write_text(_fcpxml(media, total, pieces))
        return path
    if flow.key == "hiero":
        description = _hiero_sequence(flow, media, total, pieces)
        (folder / f"{flow.key}_sequence.json").write_text(json.dumps(description, indent=1))
        timeline = timeline_from_sequence(description)
    else:
        timeline = _timeline(flow, media, total, pieces)
    otio.adapters.write_to_file(timeline, str(path))
    return path
