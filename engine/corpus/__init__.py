"""The procedural corpus: composed multi-shot clips (shot plans, styles, scores), manifests, splits;
and real music from the licensed works of the `music21` corpus (real_music.py, for stage 0).

Why a package of its own: training (engine.train) and evaluation (engine.eval) both draw clips
from it, and neither may depend on the other for that; this package imports neither of them.
Kept import-free: each module pulls in its own heavy dependencies (numpy, av) on use.
"""
