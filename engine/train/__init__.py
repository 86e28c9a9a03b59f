"""Training-side code: the codec, shard preparation and the stage trainers.

The corpus they train on lives in engine.corpus. Kept import-free: each module pulls in its own
heavy dependencies (numpy, av, torch) on use.
"""
