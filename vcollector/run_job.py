"""``python -m vcollector.run_job --job FILE [options]``: run one job file."""

from __future__ import annotations

import sys

from vcollector.cli import head_start, signals

if __name__ == "__main__":
    signals.install()  # a Ctrl-C while the program loads ends in one line, exit 130
    try:
        head_start.begin(sys.argv[1:])
        from vcollector.cli.run_job import main
    except KeyboardInterrupt:
        signals.interrupted_while_loading("run_job", sys.argv[1:])
    main()
