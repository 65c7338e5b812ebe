"""A simulated device fleet and inventory for tests, the demo and benchmarks (needs the ``sim`` extra)."""
