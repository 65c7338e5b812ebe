"""KnownHosts: lookups by name, hashed entries, and a save that keeps the file's lines."""

from __future__ import annotations

import threading
from pathlib import Path

import paramiko
import pytest

from vcollector.errors import VCollectorError
from vcollector.transport.host_keys import KnownHosts, host_entry_name


@pytest.fixture(scope="module")
def keys() -> list[paramiko.PKey]:
    return [paramiko.RSAKey.generate(1024) for _ in range(3)]


def _line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def test_entry_name_brackets_non_default_ports() -> None:
    assert host_entry_name("10.0.0.1", 22) == "10.0.0.1"
    assert host_entry_name("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_known_device_gets_only_its_own_key_file(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line("[10.0.0.1]:2222", keys[0]) + _line("10.0.0.2", keys[1]))
    known = KnownHosts(path)
    with known.connection("10.0.0.1", 2222) as check:
        private = Path(check.extras["alt_key_file"])
        assert check.extras["alt_host_keys"] is True
        assert private.read_text() == _line("[10.0.0.1]:2222", keys[0])
    assert not private.exists()
    with known.connection("10.0.0.3", 22) as check:
        assert check.extras["alt_host_keys"] is False


def test_hashed_entries_match_by_hash(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line(paramiko.HostKeys.hash_host("10.0.0.9"), keys[2]))
    known = KnownHosts(path)
    with known.connection("10.0.0.9", 22) as check:
        assert keys[2].get_base64() in Path(check.extras["alt_key_file"]).read_text()
    known.remember("10.0.0.9", keys[2])
    assert known.learnt() == []  # already recorded, under its hashed name


def test_save_appends_new_keys_and_keeps_every_line(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    original = "# kept comment\n@cert-authority *.example ssh-ed25519 AAAA\n" + _line("10.0.0.1", keys[0])
    path.write_text(original.rstrip("\n"))  # no final newline either
    known = KnownHosts(path)
    known.remember("10.0.0.1", keys[0])  # known: not new
    known.remember("[10.0.0.2]:830", keys[1])
    known.remember("[10.0.0.2]:830", keys[1])  # twice: recorded once
    assert [name for name, _key in known.learnt()] == ["[10.0.0.2]:830"]
    # another run saved a key meanwhile: it stays
    with path.open("a") as handle:
        handle.write("\n" + _line("10.0.0.7", keys[2]).rstrip("\n"))
    known.save()
    text = path.read_text()
    assert text.startswith(original)
    assert _line("10.0.0.7", keys[2]) in text
    assert text.endswith(_line("[10.0.0.2]:830", keys[1]))
    assert text.count(keys[1].get_base64()) == 1
    assert [p.name for p in tmp_path.glob(".known_hosts.*")] == [".known_hosts.lock"]  # no temp file left


def test_save_without_new_keys_leaves_the_file_alone(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line("10.0.0.1", keys[0]))
    before = path.stat().st_mtime_ns
    known = KnownHosts(path)
    known.remember("10.0.0.1", keys[0])
    known.save()
    assert path.stat().st_mtime_ns == before


def test_damaged_lines_are_skipped(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    damaged = "10.0.0.5 ssh-rsa not*base64\n10.0.0.6 unknown-type AAAA\nonly-two fields\n"
    path.write_text(damaged + _line("10.0.0.1", keys[0]))
    known = KnownHosts(path)
    with known.connection("10.0.0.1", 22) as check:
        assert check.extras["alt_host_keys"] is True


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.mkdir()
    known = KnownHosts(path)
    with pytest.raises(VCollectorError, match="cannot read known_hosts"), known.connection("10.0.0.1", 22):
        pass


def test_runs_saving_at_once_keep_each_others_keys(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    runs = [KnownHosts(path) for _ in range(16)]
    for number, run in enumerate(runs):
        run.remember(f"10.0.1.{number}", keys[number % len(keys)])
    start = threading.Barrier(len(runs))

    def save(run: KnownHosts) -> None:
        start.wait()
        run.save()

    threads = [threading.Thread(target=save, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = {line.split()[0] for line in path.read_text().splitlines()}
    assert names == {f"10.0.1.{number}" for number in range(16)}
