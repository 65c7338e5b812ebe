"""Capture history: every significant change kept as a version in a git repository.

The repository is ``<capture base>/.history`` (bare; VelocityCMDB's loader reads only
``<base>/<type>/*.txt``, so it never sees it), written with dulwich: pure Python with C
speed-ups, no git binary needed, and an ordinary git repository for whoever knows git
(``git -C ~/.vcollector/collections/.history log -p``). Each run that changed something adds
one commit (author vcollector) to ``main``, with the capture files at their paths under
the base (``configs/r1.txt``) and a message naming the run, its jobs and counts, and one
line per changed file.

Nothing is ever rewritten: commits are only added, with a compare-and-swap of the branch.
Runs at once take turns under an exclusive lock and each classifies its captures again
against what the other committed. A crash mid-commit leaves at most unreferenced objects
and a stale lock file of dulwich's, which the next commit removes; an index left behind the
branch is rebuilt from the branch's tree. The directory is 0700 and its files 0600.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from dulwich.errors import NotTreeError
from dulwich.object_store import tree_lookup_path
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from vcollector.config.paths import make_private_dirs
from vcollector.errors import CaptureError
from vcollector.storage.history_index import Entry, Index, fingerprint
from vcollector.storage.volatile import count_changes, significant_text

HISTORY_DIR = ".history"
BRANCH = Ref(b"refs/heads/main")
AUTHOR = b"vcollector <vcollector@localhost>"
_LOCK = "vcollector.lock"


@dataclass(frozen=True)
class Change:
    """A capture to keep as a version: its content and whose it is."""

    entry: Entry  # blob, significant and metadata as of this run (revision filled in on commit)
    data: bytes


@dataclass(frozen=True)
class Recorded:
    """What the history made of one capture of the run."""

    change: str  # "new", "changed" or "unchanged"
    lines_added: int
    lines_removed: int
    revision: str | None


@dataclass(frozen=True)
class Version:
    """One stored version of a capture."""

    revision: str
    time: int
    run: str
    lines_added: int
    lines_removed: int


class History:
    """The history repository of one capture base."""

    def __init__(self, base: Path) -> None:
        self.directory = base / HISTORY_DIR

    def exists(self) -> bool:
        """True when the repository was created already."""
        return (self.directory / "HEAD").is_file()

    def _repo(self, *, create: bool = False) -> Repo:
        if self.exists():
            return Repo(str(self.directory))
        if not create:
            raise CaptureError(f"no capture history in {self.directory.parent} (nothing recorded yet)")
        make_private_dirs(self.directory)
        repo = Repo.init_bare(str(self.directory), default_branch=b"main")
        repo.refs.set_symbolic_ref(Ref(b"HEAD"), BRANCH)
        return repo

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Repo]:
        try:
            previous = os.umask(0o077)  # objects, packs and refs private from the start
            try:
                repo = self._repo(create=True)
                handle = os.open(self.directory / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
            finally:
                os.umask(previous)
        except OSError as exc:
            raise CaptureError(
                f"cannot open the capture history {self.directory}: {exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _remove_stale_locks(self.directory)
            previous = os.umask(0o077)
            try:
                yield repo
            finally:
                os.umask(previous)
        finally:
            os.close(handle)
            repo.close()

    def index(self) -> Index:
        """The index, brought up to the branch if it fell behind (read-only use)."""
        index = Index(self.directory).load()
        if not self.exists():
            return index
        repo = self._repo()
        try:
            head = _head(repo)
            if head is not None and index.revision != head.decode():
                _rebuild(repo, index, head)
        finally:
            repo.close()
        return index

    def record(self, changes: Sequence[Change], message: str) -> dict[str, Recorded]:
        """Keep every change whose significant content differs from its last version, in one
        commit; returns what each capture path became. Nothing is committed when nothing
        changed."""
        results: dict[str, Recorded] = {}
        if not changes:
            return results
        with self._locked() as repo:
            index = Index(self.directory).load()
            head = _head(repo)
            if head is not None and index.revision != head.decode():
                _rebuild(repo, index, head)
            kept: list[tuple[Change, str, int, int]] = []
            for change in changes:
                path, previous = change.entry.path, index.entries.get(change.entry.path)
                if previous is not None and previous.significant == change.entry.significant:
                    results[path] = Recorded("unchanged", 0, 0, previous.revision)
                    continue
                new_lines = significant_text(_text(change.data), change.entry.platform)
                if previous is None:
                    kept.append((change, "new", len(new_lines.splitlines()), 0))
                else:
                    old = significant_text(_text(_blob(repo, previous.blob)), change.entry.platform)
                    added, removed = count_changes(old, new_lines)
                    kept.append((change, "changed", added, removed))
            if not kept:
                return results
            details = "\n".join(f"{kind} {c.entry.path} +{a} -{r}" for c, kind, a, r in kept)
            revision = _commit(repo, head, [c for c, *_ in kept], f"{message}\n\n{details}\n")
            for change, kind, added, removed in kept:
                index.entries[change.entry.path] = replace(change.entry, revision=revision)
                results[change.entry.path] = Recorded(kind, added, removed, revision)
            index.revision = revision
            index.save()
        return results

    def versions(self, path: str) -> list[Version]:
        """Every stored version of ``path``, newest first."""
        repo = self._repo()
        try:
            found: list[Version] = []
            commit_id = _head(repo)
            newer: Commit | None = None
            newer_blob: bytes | None = None
            while commit_id is not None:
                commit = _get(repo, commit_id, Commit)
                blob = _blob_at(repo, commit, path)
                if newer is not None and newer_blob is not None and blob != newer_blob:
                    found.append(_version(newer, path))
                newer, newer_blob = commit, blob
                commit_id = commit.parents[0] if commit.parents else None
            if newer is not None and newer_blob is not None:
                found.append(_version(newer, path))
            return found
        finally:
            repo.close()

    def content(self, path: str, revision: str | None = None) -> bytes:
        """The capture ``path`` as stored at ``revision`` (a prefix of it will do; default: the last)."""
        repo = self._repo()
        try:
            commit = _resolve(repo, revision)
            blob = _blob_at(repo, commit, path)
            if blob is None:
                raise CaptureError(f"{path} has no version at {commit.id.decode()[:10]}")
            return _blob(repo, blob.decode())
        finally:
            repo.close()

    def log(self, since: int) -> list[tuple[Version, str, str]]:
        """(version, kind, path) of every file a commit made since ``since`` (Unix time)."""
        repo = self._repo()
        try:
            found: list[tuple[Version, str, str]] = []
            commit_id = _head(repo)
            while commit_id is not None:
                commit = _get(repo, commit_id, Commit)
                if commit.commit_time < since:
                    break
                run = commit.message.decode("utf-8", "replace").split("\n", 1)[0]
                for kind, path, added, removed in _details(commit):
                    found.append(
                        (Version(commit.id.decode(), commit.commit_time, run, added, removed), kind, path)
                    )
                commit_id = commit.parents[0] if commit.parents else None
            return found
        finally:
            repo.close()


T = TypeVar("T", bound=ShaFile)


def _get(repo: Repo, sha: bytes, kind: type[T]) -> T:
    """The object ``sha``, which must be a ``kind`` (else the repository is damaged)."""
    try:
        found = repo[ObjectID(sha)]
    except KeyError as exc:
        raise CaptureError(f"the capture history is damaged: object {sha.decode()[:10]} is missing") from exc
    if not isinstance(found, kind):
        raise CaptureError(f"the capture history is damaged: {sha.decode()[:10]} is not a {kind.__name__}")
    return found


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _head(repo: Repo) -> ObjectID | None:
    try:
        return repo.refs[BRANCH]
    except KeyError:
        return None


def _blob(repo: Repo, blob: str) -> bytes:
    return _get(repo, blob.encode(), Blob).as_raw_string()


def _blob_at(repo: Repo, commit: Commit, path: str) -> bytes | None:
    try:
        _mode, sha = tree_lookup_path(repo.__getitem__, commit.tree, path.encode())
    except (KeyError, NotTreeError):
        return None
    return sha


def _resolve(repo: Repo, revision: str | None) -> Commit:
    head = _head(repo)
    if head is None:
        raise CaptureError("the capture history has no version yet")
    commit_id = head
    while True:
        commit = _get(repo, commit_id, Commit)
        if revision is None or commit.id.decode().startswith(revision.lower()):
            return commit
        if not commit.parents:
            raise CaptureError(f"no version {revision!r} in the capture history")
        commit_id = commit.parents[0]


def _details(commit: Commit) -> Iterator[tuple[str, str, int, int]]:
    body = commit.message.decode("utf-8", "replace").split("\n\n", 1)[-1]
    for line in body.splitlines():
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and parts[1].startswith("+") and parts[2].startswith("-"):
            kind, _, path = parts[0].partition(" ")
            if kind in {"new", "changed"} and path:
                yield kind, path, int(parts[1][1:]), int(parts[2][1:])


def _version(commit: Commit, path: str) -> Version:
    run = commit.message.decode("utf-8", "replace").split("\n", 1)[0]
    for _kind, changed, added, removed in _details(commit):
        if changed == path:
            return Version(commit.id.decode(), commit.commit_time, run, added, removed)
    return Version(commit.id.decode(), commit.commit_time, run, 0, 0)


def _commit(repo: Repo, head: ObjectID | None, changes: Sequence[Change], message: str) -> str:
    """One commit on ``head`` with ``changes`` applied to its tree; the branch moves by CAS."""
    objects: list[ShaFile] = []
    files: dict[tuple[bytes, ...], bytes] = {}
    for change in changes:
        blob = Blob.from_string(change.data)
        objects.append(blob)
        files[tuple(change.entry.path.encode().split(b"/"))] = blob.id
    base: ObjectID | None = None
    if head is not None:
        base = _get(repo, head, Commit).tree
    root = _tree_with(repo, base, files, objects)
    commit = Commit()
    commit.tree = root
    commit.parents = [head] if head is not None else []
    commit.author = commit.committer = AUTHOR
    commit.commit_time = commit.author_time = int(time.time())
    commit.commit_timezone = commit.author_timezone = 0
    commit.encoding = b"UTF-8"
    commit.message = message.encode("utf-8", "replace")
    objects.append(commit)
    repo.object_store.add_objects([(obj, None) for obj in objects])
    _private_packs(Path(repo.path))
    if not repo.refs.set_if_equals(BRANCH, head, commit.id):
        raise CaptureError("the capture history moved during the commit (another program writes it?)")
    return commit.id.decode()


def _tree_with(
    repo: Repo, tree_id: ObjectID | None, files: dict[tuple[bytes, ...], bytes], objects: list[ShaFile]
) -> ObjectID:
    """The id of tree ``tree_id`` (None: empty) with ``files`` (path parts -> blob) put in;
    the new trees are appended to ``objects``."""
    tree = Tree()
    if tree_id is not None:
        tree = _get(repo, tree_id, Tree).copy()  # type: ignore[assignment]  # copy() keeps the class
    below: dict[bytes, dict[tuple[bytes, ...], bytes]] = {}
    for parts, blob in files.items():
        if len(parts) == 1:
            tree.add(parts[0], 0o100644, ObjectID(blob))
        else:
            below.setdefault(parts[0], {})[parts[1:]] = blob
    for name, inner in below.items():
        current = tree[name][1] if name in tree and tree[name][0] == 0o040000 else None
        tree.add(name, 0o040000, _tree_with(repo, current, inner, objects))
    objects.append(tree)
    return tree.id


def _rebuild(repo: Repo, index: Index, head: ObjectID) -> None:
    """Bring the index up to ``head`` (after a crash between the commit and the index write,
    or a lost index file): every file of the branch gets an entry, what it knows is kept."""
    commit = _get(repo, head, Commit)
    present = dict(_files(repo, commit.tree, ""))
    for path in list(index.entries):
        if path not in present:
            del index.entries[path]
    for path, blob in present.items():
        entry = index.entries.get(path)
        if entry is not None and entry.blob == blob:
            continue
        stored = _text(_blob(repo, blob))
        platform = entry.platform if entry is not None else None
        folder, _, name = path.rpartition("/")
        stem = name.rsplit(".", 1)[0]
        known = entry or Entry(path, 0, stem, stem, folder, None, "", "", "")
        significant = fingerprint(stored, platform).significant
        # The branch's head holds this content; the commit that wrote it is at or before it.
        index.entries[path] = replace(known, blob=blob, significant=significant, revision=head.decode())
    index.revision = head.decode()
    index.save()


def _files(repo: Repo, tree_id: ObjectID, prefix: str) -> Iterator[tuple[str, str]]:
    tree = _get(repo, tree_id, Tree)
    for item in tree.iteritems():
        name = f"{prefix}{item.path.decode('utf-8', 'replace')}"
        if item.mode == 0o040000:
            yield from _files(repo, item.sha, name + "/")
        else:
            yield name, item.sha.decode()


def _private_packs(directory: Path) -> None:
    """dulwich makes packs world-readable (0444), as git does; ours stay private (0400)."""
    for written in (directory / "objects" / "pack").iterdir():
        with contextlib.suppress(OSError):
            mode = written.stat().st_mode
            if mode & 0o077:
                written.chmod(mode & 0o700)


def _remove_stale_locks(directory: Path) -> None:
    """dulwich's own lock files that a killed run left (we hold the only writer's lock)."""
    for lock in [directory / "HEAD.lock", directory / "packed-refs.lock", *directory.glob("refs/**/*.lock")]:
        with contextlib.suppress(OSError):
            if lock.is_file():
                lock.unlink()
