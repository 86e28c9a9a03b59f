"""Crossfades stay within the WAVs' handles and are audio transitions in FCP7 XML."""

from __future__ import annotations

import opentimelineio as otio

from vm_editor.score_track import fit_crossfades_to_handles, scored_output_path
from vm_editor.timeline_io import write_timeline_atomic
from vm_editor.writeback import METADATA_KEY

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange


def _scored(handle: int, tmp_path) -> otio.schema.Timeline:
    tl = otio.schema.Timeline("t", global_start_time=RT(0, 25))
    video = otio.schema.Track("V1", kind=otio.schema.TrackKind.Video)
    media = otio.schema.ExternalReference("file:///m/a.mov", TR(RT(0, 25), RT(500, 25)))
    video.append(otio.schema.Clip("v", media_reference=media, source_range=TR(RT(0, 25), RT(100, 25))))
    score = otio.schema.Track("VidMusician score", kind=otio.schema.TrackKind.Audio)
    score.metadata[METADATA_KEY] = {"score": True}
    for i in range(2):
        wav = otio.schema.ExternalReference(
            (tmp_path / f"c{i}.wav").as_uri(), TR(RT(0, 25), RT(50 + 2 * handle, 25))
        )
        cue = otio.schema.Clip(f"cue {i}", media_reference=wav, source_range=TR(RT(handle, 25), RT(50, 25)))
        cue.metadata[METADATA_KEY] = {"cue_index": i, "wav_url": wav.target_url}
        score.append(cue)
        if i == 0:
            score.append(otio.schema.Transition(in_offset=RT(6, 25), out_offset=RT(6, 25)))
    tl.tracks.extend([video, score])
    return tl


def _fades(tl):
    return [c for t in tl.tracks for c in t if isinstance(c, otio.schema.Transition)]


def test_crossfade_without_handles_is_left_out_and_with_short_handles_is_cut(tmp_path):
    assert _fades(fit_crossfades_to_handles(_scored(0, tmp_path))) == []
    (fade,) = _fades(fit_crossfades_to_handles(_scored(4, tmp_path)))
    assert (fade.in_offset.value, fade.out_offset.value) == (4, 4)
    (fade,) = _fades(fit_crossfades_to_handles(_scored(10, tmp_path)))
    assert (fade.in_offset.value, fade.out_offset.value) == (6, 6)


def test_fcp7_xml_crossfade_is_an_audio_cross_fade(tmp_path):
    out = write_timeline_atomic(_scored(10, tmp_path), tmp_path / "t.scored.xml")
    text = out.read_text()
    assert "KGAudioTransCrossFade3dB" in text and "<mediatype>audio</mediatype>" in text
    assert "Cross Dissolve" not in text
    assert "vidmusician:" in text  # the recipe rides in the clip's comments


def test_output_names_do_not_grow(tmp_path):
    for name in ("cut.xml", "cut.scored.xml", "cut.scored.cue2-take3.xml", "cut.scored.scored.xml"):
        assert scored_output_path(tmp_path / name).name == "cut.scored.xml"
