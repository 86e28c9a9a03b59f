"""Evaluation of generated music against the pictures (`vm-eval`): metrics, a style judge, reports."""
