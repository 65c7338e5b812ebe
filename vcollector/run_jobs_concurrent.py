"""``python -m vcollector.run_jobs_concurrent --jobs F... | --jobs-dir D [options]``: run many jobs."""

from __future__ import annotations

from vcollector.cli.run_jobs import main

if __name__ == "__main__":
    main()
