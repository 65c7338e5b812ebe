"""Benchmarks of vcollector against a lean simulated fleet (``make bench``)."""
