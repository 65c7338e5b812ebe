"""Runs: plans, results, the results file, cancellation, and where sessions run (backends)."""
