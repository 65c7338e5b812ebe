"""``python -m vcollector.cli``: the same as the ``vcollector`` console script."""

from __future__ import annotations

from vcollector.cli.app import main

main()
