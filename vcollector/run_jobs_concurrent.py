"""``python -m vcollector.run_jobs_concurrent --jobs F... | --jobs-dir D [options]``: run many jobs."""

from __future__ import annotations

import sys

from vcollector.cli import head_start

if __name__ == "__main__":
    head_start.begin(sys.argv[1:])
    from vcollector.cli.run_jobs import main

    main()
