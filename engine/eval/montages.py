"""Held-out montages: OTIO timelines cut from real footage at known times, for measuring form and
hits on pictures and cuts the model and the decoder were never tuned on.

Why built, not shipped: the footage lives in ../shared/samples/media (real files, licences beside
them); a montage is only a list of (file, source in, source out) shots, so it is written here and
cut from whatever footage is present. Each set names what it is for: `TUNING` montages may be
looked at while changing the decoder, `HELDOUT` ones only measured.
"""

from __future__ import annotations

import sys
from pathlib import Path

import opentimelineio as otio

RATE = 25.0
Shot = tuple[str, float, float]  # (file name in the samples folder, source in s, source out s)

TUNING: dict[str, tuple[Shot, ...]] = {
    "tune-bikes-testvideo": (
        ("testvideo.mp4", 0.5, 5.0),
        ("bikes.mp4", 1.0, 5.5),
        ("testvideo.mp4", 7.0, 11.0),
        ("bikes.mp4", 6.0, 9.8),
        ("testvideo.mp4", 13.0, 17.5),
    ),
    "tune-long-testvideo": (
        ("testvideo.mp4", 0.0, 6.5),
        ("testvideo.mp4", 7.0, 12.5),
        ("testvideo.mp4", 13.0, 19.0),
        ("testvideo.mp4", 19.2, 24.0),
    ),
    "tune-cuts-bikes": (
        ("bikes.mp4", 0.0, 2.2),
        ("bikes.mp4", 2.6, 4.9),
        ("testvideo.mp4", 4.0, 7.5),
        ("bikes.mp4", 5.2, 9.9),
        ("testvideo.mp4", 9.5, 14.0),
    ),
}

HELDOUT: dict[str, tuple[Shot, ...]] = {
    "montage-three-sources": (
        ("bikes.mp4", 0.0, 3.2),
        ("testvideo.mp4", 2.0, 6.0),
        ("counter.mp4", 0.0, 2.6),
        ("bikes.mp4", 3.5, 7.0),
        ("testvideo.mp4", 8.0, 12.0),
        ("counter.mp4", 0.4, 2.9),
        ("testvideo.mp4", 14.0, 18.4),
        ("bikes.mp4", 7.2, 9.9),
        ("testvideo.mp4", 19.0, 23.5),
    ),
    "quick-cutting": (
        ("bikes.mp4", 0.2, 1.8),
        ("testvideo.mp4", 3.0, 4.4),
        ("bikes.mp4", 4.0, 5.2),
        ("testvideo.mp4", 9.0, 11.1),
        ("counter.mp4", 0.5, 1.7),
        ("bikes.mp4", 8.0, 9.6),
        ("testvideo.mp4", 15.0, 16.9),
        ("bikes.mp4", 2.0, 3.5),
        ("testvideo.mp4", 20.5, 23.0),
    ),
    "slow-testvideo": (
        ("testvideo.mp4", 1.0, 9.0),
        ("testvideo.mp4", 12.9, 21.0),
    ),
}


def build(name: str, shots: tuple[Shot, ...], media: Path, rate: float = RATE) -> otio.schema.Timeline:
    """A one-track timeline of `shots` back to back (cuts at their seams), media from `media`."""
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for number, (file, start, end) in enumerate(shots, start=1):
        path = (Path(media) / file).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: footage for montage {name!r} is missing")
        first, last = round(start * rate), round(end * rate)
        track.append(
            otio.schema.Clip(
                name=f"{Path(file).stem} {number}",
                media_reference=otio.schema.ExternalReference(target_url=path.as_uri()),
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(last - first, rate)
                ),
            )
        )
    timeline = otio.schema.Timeline(name=name)
    timeline.tracks.append(track)
    return timeline


def write_all(media: Path, out: Path, which: str = "heldout") -> list[Path]:
    """Write every montage of a set (`tuning`, `heldout` or `all`) as OUT/<name>.otio."""
    sets = {"tuning": TUNING, "heldout": HELDOUT, "all": {**TUNING, **HELDOUT}}[which]
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, shots in sets.items():
        path = out / f"{name}.otio"
        otio.adapters.write_to_file(build(name, shots, media), str(path))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """`python -m engine.eval.montages OUT [--set heldout|tuning|all] [--media DIR]`: write the
    montages as OTIO timelines to score (`vm-editor score OUT/NAME.otio`) and measure
    (`python -m engine.eval.form_check`)."""
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m engine.eval.montages", description=main.__doc__.splitlines()[0]
    )
    p.add_argument("out", help="folder for NAME.otio")
    p.add_argument("--set", dest="which", choices=("heldout", "tuning", "all"), default="heldout")
    p.add_argument(
        "--media",
        default=str(Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "media"),
        help="folder of the footage (default: ../shared/samples/media)",
    )
    args = p.parse_args(argv)
    try:
        for path in write_all(Path(args.media), Path(args.out), args.which):
            print(path)
    except FileNotFoundError as exc:
        print(
            f"error: {exc}; pass --media FOLDER with bikes.mp4, counter.mp4 and testvideo.mp4",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
