"""Where captures go: paths, atomic writes, history and scrubbing."""
