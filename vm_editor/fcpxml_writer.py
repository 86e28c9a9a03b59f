"""FCPXML write-back: the user's own FCPXML with the score added as connected audio storylines.

Why not the adapter's writer: it rebuilds the whole document from OTIO (losing everything OTIO
does not model) and crashes on 1.10+ input. Here the source document is copied as it is and
only gains: one `<asset>` per cue WAV, an "Audio Crossfade" effect, and a connected storyline
(`<spine lane="-N" name="VidMusician score">`) anchored to the first item of the primary
storyline, holding the cues at their record times with gaps and crossfades. Earlier takes go in a
second storyline, disabled. Cue metadata rides in `<metadata><md key="com.vidmusician.cue">`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from vm_editor.errors import TimelineReadError
from vm_editor.fcpxml_reader import SCORE_MD_KEY, choose_project, fcp_time
from vm_editor.writeback import METADATA_KEY, score_track, takes_tracks


def _plain(value):
    """OTIO's AnyDictionary / AnyVector as plain JSON-able Python."""
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [_plain(v) for v in value]
    return value


def _fmt(t: Fraction) -> str:
    return f"{t.numerator}s" if t.denominator == 1 else f"{t.numerator}/{t.denominator}s"


class _Writer:
    def __init__(self, root: ET.Element, source: Path, project_name: str | None) -> None:
        self.root, self.source = root, source
        self.resources = root.find("resources")
        ids = [
            int(e.get("id")[1:])
            for e in self.resources
            if (e.get("id") or "").startswith("r") and e.get("id")[1:].isdigit()
        ]
        self.next_id = max(ids, default=0) + 1
        self.media_rep = tuple(int(x) for x in root.get("version", "1.8").split(".")[:2]) >= (1, 10)
        project, _note = choose_project(root, source, project_name)  # the project that was read
        self.seq = project.find("sequence")
        fmt = self.resources.find(f"format[@id='{self.seq.get('format')}']")
        self.fd = fcp_time(fmt.get("frameDuration"))
        self.tc_start = fcp_time(self.seq.get("tcStart"))
        self.fade_id = None

    def new_id(self) -> str:
        self.next_id += 1
        return f"r{self.next_id - 1}"

    def asset(self, url: str, name: str, duration: Fraction) -> str:
        rid = self.new_id()
        attrs = {
            "id": rid,
            "name": name,
            "start": "0s",
            "duration": _fmt(duration),
            "hasVideo": "0",
            "hasAudio": "1",
            "audioSources": "1",
            "audioRate": "48000",
        }
        if not self.media_rep:
            attrs["src"] = url
        el = ET.SubElement(self.resources, "asset", attrs)
        if self.media_rep:
            ET.SubElement(el, "media-rep", {"kind": "original-media", "src": url})
        return rid

    def crossfade_effect(self) -> str:
        if self.fade_id is None:
            found = self.resources.find("effect[@uid='FFAudioTransition']")
            self.fade_id = found.get("id") if found is not None else self.new_id()
            if found is None:
                ET.SubElement(
                    self.resources,
                    "effect",
                    {"id": self.fade_id, "name": "Audio Crossfade", "uid": "FFAudioTransition"},
                )
        return self.fade_id

    def storyline(self, track: otio.schema.Track, lane: int, anchor: ET.Element) -> None:
        rate = self.fd
        # record time 0 is the sequence's tcStart, in the anchor's own (start-based) time
        origin = fcp_time(anchor.get("start")) - fcp_time(anchor.get("offset")) + self.tc_start
        spine = ET.Element("spine", {"lane": str(lane), "offset": _fmt(origin), "name": track.name})
        for i, child in enumerate(track):
            rng = track.range_of_child_at_index(i)
            offset = Fraction(round(rng.start_time.value)) * rate
            dur = Fraction(round(rng.duration.value)) * rate
            if isinstance(child, otio.schema.Gap):
                ET.SubElement(
                    spine,
                    "gap",
                    {"name": "Gap", "offset": _fmt(offset), "duration": _fmt(dur), "start": "3600s"},
                )
            elif isinstance(child, otio.schema.Transition):
                length = Fraction(round(child.in_offset.value + child.out_offset.value)) * rate
                lo = offset - Fraction(round(child.in_offset.value)) * rate
                tr = ET.SubElement(
                    spine,
                    "transition",
                    {"name": "Audio Crossfade", "offset": _fmt(lo), "duration": _fmt(length)},
                )
                ET.SubElement(tr, "filter-audio", {"ref": self.crossfade_effect(), "name": "Audio Crossfade"})
            elif isinstance(child, otio.schema.Clip):
                ref = child.media_reference
                avail = ref.available_range.duration if ref.available_range else child.duration()
                rid = self.asset(ref.target_url, child.name, Fraction(round(avail.value)) * rate)
                attrs = {
                    "ref": rid,
                    "name": child.name,
                    "offset": _fmt(offset),
                    "duration": _fmt(dur),
                    "start": "0s",
                    "audioRole": "music",
                }
                if not child.enabled:
                    attrs["enabled"] = "0"
                clip = ET.SubElement(spine, "asset-clip", attrs)
                if METADATA_KEY in child.metadata:
                    md = ET.SubElement(clip, "metadata")
                    value = json.dumps(_plain(child.metadata[METADATA_KEY]), sort_keys=True)
                    ET.SubElement(md, "md", {"key": SCORE_MD_KEY, "value": value})
        anchor.append(spine)


def _remove_score_storylines(primary: ET.Element | None) -> None:
    """Drop the score and takes storylines a previous run added: the timeline brings them anew."""
    if primary is None:
        return
    for parent in list(primary.iter()):
        for child in list(parent):
            if child.tag == "spine" and any(md.get("key") == SCORE_MD_KEY for md in child.iter("md")):
                parent.remove(child)


def write_fcpxml(timeline: otio.schema.Timeline, out: Path, *, source: Path | None) -> None:
    """Copy `source` (an FCPXML) to `out` with the timeline's score and takes tracks added."""
    if source is None or Path(source).suffix.lower() != ".fcpxml":
        raise TimelineReadError(
            f"{out}: FCPXML output is written by adding to the original FCPXML; score an .fcpxml "
            "input, or write .otio (-o X.otio)"
        )
    tree = ET.parse(source)
    number = (timeline.metadata.get("fcpxml") or {}).get("project_number")
    project = str(int(number)) if number else None
    writer = _Writer(tree.getroot(), Path(source), project)
    primary = writer.seq.find("spine")
    _remove_score_storylines(primary)
    anchor = next((e for e in primary if e.tag != "transition"), None) if primary is not None else None
    if anchor is None:
        raise TimelineReadError(f"{source}: the primary storyline is empty; nothing to attach the score to")
    lanes = [
        int(e.get("lane")) for e in primary.iter() if e.get("lane") and e.get("lane").lstrip("-").isdigit()
    ]
    lane = min([0] + lanes) - 1
    score = score_track(timeline)
    for track in ([score] if score is not None else []) + takes_tracks(timeline):
        writer.storyline(track, lane, anchor)
        lane -= 1
    ET.indent(tree)
    body = ET.tostring(tree.getroot(), encoding="unicode")
    Path(out).write_text('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n' + body + "\n")
