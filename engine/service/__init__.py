"""The local engine service: job store, worker, HTTP app, and the `serve` launcher."""
