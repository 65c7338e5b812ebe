"""KnownHosts: lookups by name, hashed entries, and a save that keeps the file's lines."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import paramiko
import pytest

from vcollector.errors import HostKeyRejected, HostKeyStoreError
from vcollector.transport.host_keys import KnownHosts, host_entry_name


@pytest.fixture(scope="module")
def keys() -> list[paramiko.PKey]:
    return [paramiko.RSAKey.generate(1024) for _ in range(3)]


def _line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def test_entry_name_brackets_non_default_ports() -> None:
    assert host_entry_name("10.0.0.1", 22) == "10.0.0.1"
    assert host_entry_name("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_recorded_key_is_accepted_and_a_changed_one_refused(
    tmp_path: Path, keys: list[paramiko.PKey]
) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line("[10.0.0.1]:2222", keys[0]) + _line("10.0.0.2", keys[1]))
    known = KnownHosts(path)
    known.verify("[10.0.0.1]:2222", keys[0])
    with pytest.raises(HostKeyRejected, match="host key changed"):
        known.verify("[10.0.0.1]:2222", keys[1])
    known.verify("10.0.0.3", keys[2])  # unknown: trusted on first use
    assert known.learnt() == []  # ... but only recorded once the login succeeded


def test_another_key_type_for_a_recorded_device_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line("10.0.0.1", paramiko.RSAKey.generate(1024)))
    with pytest.raises(HostKeyRejected, match="host key changed"):
        KnownHosts(path).verify("10.0.0.1", paramiko.ECDSAKey.generate())


def test_strict_refuses_unknown_devices(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    with pytest.raises(HostKeyRejected, match="unknown host key"):
        KnownHosts(tmp_path / "known_hosts", strict=True).verify("10.0.0.1", keys[0])


def test_a_check_records_the_presented_key_after_login(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    check = known.check("10.0.0.5", 830)
    assert check.name == "[10.0.0.5]:830"
    check.policy().missing_host_key(paramiko.SSHClient(), "ignored", keys[0])
    assert known.learnt() == []
    check.learn()
    assert [name for name, _key in known.learnt()] == ["[10.0.0.5]:830"]


@pytest.mark.parametrize("pattern", ["*", "10.0.0.*", "10.0.0.1", "[10.0.0.1]:22,10.0.0.1"])
def test_revoked_keys_are_refused_even_when_recorded(
    tmp_path: Path, keys: list[paramiko.PKey], pattern: str
) -> None:
    path = tmp_path / "known_hosts"
    revoked = f"@revoked {pattern} {keys[0].get_name()} {keys[0].get_base64()}\n"
    path.write_text(revoked + _line("10.0.0.1", keys[0]) + _line("10.0.9.9", keys[0]))
    known = KnownHosts(path)
    with pytest.raises(HostKeyRejected, match="revoked"):
        known.verify("10.0.0.1", keys[0])
    if pattern != "*":  # a revocation for other hosts leaves this one alone
        known.verify("10.0.9.9", keys[0])


def test_revoked_key_is_not_learnt_for_a_new_device(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"@revoked * {keys[0].get_name()} {keys[0].get_base64()}\n")
    known = KnownHosts(path)
    check = known.check("10.0.0.7", 22)
    with pytest.raises(HostKeyRejected):
        check.policy().missing_host_key(paramiko.SSHClient(), "10.0.0.7", keys[0])
    check.learn()
    assert known.learnt() == []


def test_hashed_entries_match_by_hash(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(_line(paramiko.HostKeys.hash_host("10.0.0.9"), keys[2]))
    known = KnownHosts(path)
    known.verify("10.0.0.9", keys[2])
    with pytest.raises(HostKeyRejected):
        known.verify("10.0.0.9", keys[0])
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
    known.verify("10.0.0.1", keys[0])
    with pytest.raises(HostKeyRejected):
        known.verify("10.0.0.1", keys[1])


@pytest.mark.parametrize("damage", ["directory", "unreadable"])
def test_unreadable_file_fails_closed(tmp_path: Path, keys: list[paramiko.PKey], damage: str) -> None:
    path = tmp_path / "known_hosts"
    if damage == "directory":
        path.mkdir()
    else:
        path.write_text(_line("10.0.0.1", keys[0]))
        path.chmod(0)
        if os.access(path, os.R_OK):  # root reads anything: nothing to test here
            pytest.skip("running as root")
    known = KnownHosts(path)
    with pytest.raises(HostKeyStoreError, match="cannot read known_hosts"):
        known.load()
    # Every later check fails the same way: never an empty index that accepts any key.
    for _ in range(3):
        with pytest.raises(HostKeyStoreError):
            known.verify("10.0.0.1", keys[1])
        with pytest.raises(HostKeyStoreError):
            known.check("10.0.0.2", 22)


def test_save_failure_is_a_clear_error_and_keeps_the_keys(tmp_path: Path, keys: list[paramiko.PKey]) -> None:
    path = tmp_path / "known_hosts"
    (tmp_path / ".known_hosts.lock").mkdir()  # the lock path is a directory
    known = KnownHosts(path)
    known.remember("10.0.0.1", keys[0])
    with pytest.raises(HostKeyStoreError, match="cannot lock known_hosts"):
        known.save()
    assert len(known.learnt()) == 1


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
