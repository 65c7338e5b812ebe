"""``python -m vcollector.run_job --job FILE [options]``: run one job file."""

from __future__ import annotations

import sys

from vcollector.cli import head_start

if __name__ == "__main__":
    head_start.begin(sys.argv[1:])
    from vcollector.cli.run_job import main

    main()
