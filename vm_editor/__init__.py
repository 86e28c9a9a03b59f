"""The editor side: timelines in, scenes out, score written back (pure Python + OTIO)."""
