"""``python -m vcollector.run_job --job FILE [options]``: run one job file."""

from __future__ import annotations

from vcollector.cli.run_job import main

if __name__ == "__main__":
    main()
