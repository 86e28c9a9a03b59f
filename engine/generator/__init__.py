"""The music generator: VidMusician adapters on a frozen audiocraft MusicGen backbone.

Import the pieces you need from their modules (`engine.generator.music_generator.MusicGenerator` for the
pipeline); this package file stays empty so that importing it pulls in no torch.
"""
