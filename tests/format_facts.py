"""Measure, per sample format, what survives: the facts behind the table in docs/formats.md."""

from __future__ import annotations

import tempfile
from pathlib import Path

import opentimelineio as otio

from tests.timeline_helpers import EDL_RATES, SAMPLES, cues_for
from vm_editor.scenes import extract_scenes
from vm_editor.timeline_io import default_output_path, read_timeline, write_timeline_atomic
from vm_editor.writeback import add_score_track, cue_metadata, score_track, sidecar_path

KIND = {
    ".otio": "OTIO",
    ".xml": "FCP7 XML",
    ".fcpxml": "FCPXML",
    ".edl": "CMX 3600 EDL",
    ".aaf": "AAF",
    ".kdenlive": "Kdenlive",
}


def facts() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, int]] = {}
    for path in sorted(SAMPLES.iterdir()):
        row = rows.setdefault(
            KIND[path.suffix],
            {
                "files": 0,
                "scenes": 0,
                "markers": 0,
                "music": 0,
                "fades": 0,
                "fades_written": 0,
                "meta": 0,
                "out": "",
            },
        )
        row["files"] += 1
        try:
            tl = read_timeline(path, rate=EDL_RATES.get(path.name))
            scenes = extract_scenes(tl)
        except Exception:
            continue
        row["scenes"] += 1
        row["markers"] += any(s.markers for s in scenes.scenes)
        with tempfile.TemporaryDirectory() as tmp:
            cues = cues_for(scenes, Path(tmp), handle_s=1.0)  # rendered past each end, as the engine does
            scored = add_score_track(tl, scenes.scenes, cues, crossfade_s=0.25)
            out = Path(tmp) / default_output_path(path).name
            write_timeline_atomic(scored, out, input_path=path)
            row["out"] = out.suffix
            back = read_timeline(out, rate=EDL_RATES.get(path.name))
            track = score_track(back, out)
            row["music"] += track is not None
            row["fades_written"] += any(
                isinstance(c, otio.schema.Transition)
                for c in scored.tracks[-1]
                if score_track(scored) is not None
            ) and any(isinstance(c, otio.schema.Transition) for c in score_track(scored))
            row["fades"] += track is not None and any(isinstance(c, otio.schema.Transition) for c in track)
            sidecar = sidecar_path(out)
            if sidecar.is_file():  # what the file itself carries, without the last-resort sidecar
                sidecar.unlink()
                back = read_timeline(out, rate=EDL_RATES.get(path.name))
                track = score_track(back, out)
            row["meta"] += (
                track is not None
                and bool(cue_metadata(back, out))
                and all("vidmusician" in c.metadata for c in track.find_clips())
            )
    return {
        k: {
            "scenes": f"{v['scenes']}/{v['files']}",
            "markers": f"{v['markers']}/{v['files']}",
            "music": f"{v['music']}/{v['files']}",
            "fades": f"{v['fades']}/{v['fades_written']}",
            "meta": "in file" if v["meta"] else "sidecar",
            "out": v["out"],
        }
        for k, v in rows.items()
    }


if __name__ == "__main__":
    for k, v in facts().items():
        print(k, v)
