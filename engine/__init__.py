"""VidMusician engine: decode, features, generation, finishing.

Kept import-free on purpose: `engine.api` is imported by the editor side, which must never pull
in torch, onnxruntime or av.
"""

__version__ = "0.1.0"
