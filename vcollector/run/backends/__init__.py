"""Where a run's device sessions execute: threads in this process, or worker processes."""
