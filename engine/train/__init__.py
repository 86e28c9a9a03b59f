"""Training-side code: the procedural corpus, dataset manifests and (later) the trainers.

Kept import-free: each module pulls in its own heavy dependencies (numpy, av, torch) on use.
"""
