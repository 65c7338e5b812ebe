"""vcollector: collect configs and show-command output from fleets of network devices."""

from __future__ import annotations

__version__ = "0.4.0"
