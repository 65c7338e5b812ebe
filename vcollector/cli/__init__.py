"""The typer command-line interface (``vcollector``, ``run_job``, ``run_jobs_concurrent``)."""
