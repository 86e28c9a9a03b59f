"""The engine's clocks in one place: the rates the features, the model and the cues agree on.

A trained model's inputs are laid out on these grids, so a change here is a change of every
model's input, not a tuning knob. No imports at all: `engine.api` (which the editor side loads)
re-exports the two rates the editor needs.
"""

TOKEN_RATE = 50  # Hz: the generator's token grid (MusicGen's codebook rate): rhythm curve, cue channel, hit frames, notes
CUE_SAMPLE_RATE = 48_000  # Hz: every cue and stem the engine writes, and the symbolic renderer's output
GRID_FPS = 25  # the video grid the rhythm curve is measured on (patch tokens of one frame per 1/25 s)
SEMANTIC_FPS = 1  # the semantic frames: one [CLS] embedding per second of picture
