"""Default paths and private directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from vcollector.config.paths import default_known_hosts, make_private_dirs, vcollector_home


def test_every_directory_made_is_private_whatever_the_umask(tmp_path: Path) -> None:
    levels = [tmp_path / "u", tmp_path / "u" / ".vcollector", tmp_path / "u" / ".vcollector" / "debug"]
    previous = os.umask(0)
    try:
        make_private_dirs(levels[-1])
    finally:
        os.umask(previous)
    for path in levels:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_existing_directories_are_left_as_they_are(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    make_private_dirs(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_known_hosts_lives_in_the_home() -> None:
    assert default_known_hosts() == vcollector_home() / "known_hosts"
