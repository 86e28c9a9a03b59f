"""The soundfont renderer's speed: 10 s of four streams (drums, bass, chords, melody) per style,
as the mix alone and with stems, as times faster than real time (CPU, one thread)."""

from __future__ import annotations

import statistics
import time

SECONDS = 10.0


def run() -> dict:
    from engine.symbolic.preview import demo_score
    from engine.symbolic.renderer import render
    from engine.symbolic.score import STYLES
    from engine.symbolic.soundfont import find_soundfont

    bars = int(round(SECONDS / 2.4))  # 100 BPM: 2.4 s a bar
    render(demo_score(STYLES[0], bars=1))  # load the soundfont once, as a running engine has
    mix, stems = {}, {}
    for style in STYLES:
        score = demo_score(style, bars=bars)
        t0 = time.perf_counter()
        render(score)
        mix[style] = score.duration_s / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        render(score, stems=True)
        stems[style] = score.duration_s / (time.perf_counter() - t0)
    return {
        "soundfont": str(find_soundfont()),
        "seconds_of_music": bars * 2.4,
        "figures": {f"{s}_x_real_time": round(mix[s], 1) for s in STYLES}
        | {f"{s}_stems_x_real_time": round(stems[s], 1) for s in STYLES},
        "ratios": {
            "render_mix_x_real_time_median": round(statistics.median(mix.values()), 1),
            "render_mix_x_real_time_slowest": round(min(mix.values()), 1),
            "render_stems_x_real_time_median": round(statistics.median(stems.values()), 1),
        },
    }
