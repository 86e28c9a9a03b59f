"""The embedded default's music: notes on the 50 Hz token grid, tokens, and the soundfont renderer.

Why a package of its own: the corpus (composer), the trainer, the generator and the evaluation all
speak notes; none of them should import another just to share the note types (DESIGN.md §3).
"""
