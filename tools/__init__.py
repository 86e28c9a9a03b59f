"""Developer tooling outside the product: the docs' pictures (`tools.docs`) and the demo's music
check (`tools.demo_check`). Free to import the product and `engine.eval`; the product never
imports this (tests/test_layering.py)."""
