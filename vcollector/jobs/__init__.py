"""Job files: the typed v2.0 model, what each command means, and sets of job files."""
