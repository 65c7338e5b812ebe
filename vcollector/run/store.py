"""Where a device's output becomes a capture file: written atomically, or the device fails.

Every backend hands each finished step to :class:`CaptureStore` in the process that owns
the files (a worker thread here, a worker process, the coordinator of a distributed run),
so captures are written the same way whoever ran the session.

A step whose job asks for TextFSM validation (``validation.use_tfsm``) is parsed here first
(:mod:`vcollector.parsing.validation`). Valid output is saved as usual, and its records beside
the capture as JSON (``<name>.json`` for ``<name>.txt``). Output that parses to fewer than
``min_score`` records is *invalid*: its capture is not written, so the previous one stays
(unless the run says ``--force-save``), and with ``store_failures`` it is kept under
``.invalid/`` beside the captures, where VelocityCMDB's loader (``<type>/*.txt``) does not look.
"""

from __future__ import annotations

import json
from pathlib import Path

from vcollector.cancellation import Cancellation
from vcollector.collection.outcome import DeviceOutcome
from vcollector.errors import CaptureError, DeviceError
from vcollector.parsing.validation import Verdict, validate
from vcollector.storage.atomic import write_atomic
from vcollector.storage.captures import write_capture
from vcollector.storage.history_index import fingerprint
from vcollector.transport.failures import one_line

INVALID_DIRECTORY = ".invalid"


def records_path(capture: Path) -> Path:
    """Where the records of ``capture`` go: ``r1.txt`` → ``r1.json``; any other name gets ``.json`` added."""
    name = capture.name
    stem = name[: -len(".txt")] if name.lower().endswith(".txt") and len(name) > 4 else name
    return capture.with_name(stem + ".json")


def invalid_path(capture: Path) -> Path:
    """Where an invalid output of ``capture`` is kept: ``.invalid/`` beside it, the same name."""
    return capture.parent / INVALID_DIRECTORY / capture.name


def _write(path: Path, data: str, what: str) -> int:
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise CaptureError(f"cannot write {what} {path}: {exc.strerror or exc}") from exc


class CaptureStore:
    """Writes each successful step's output to its capture path (mode 0600, atomically)."""

    def __init__(self, cancellation: Cancellation) -> None:
        self.cancellation = cancellation

    def __call__(self, outcome: DeviceOutcome) -> DeviceOutcome:
        """Store ``outcome``'s output (if any); the outcome no longer carries it afterwards."""
        output, outcome.output = outcome.output, None
        spans, outcome.spans = outcome.spans, ()
        if not outcome.ok or output is None:
            return outcome
        verdict: Verdict | None = None
        if outcome.validation is not None:
            try:
                verdict = validate(outcome.platform, output, spans, outcome.validation)
            except Exception as exc:  # no usable ntc-templates (NTC_TEMPLATES_DIR, a broken install)
                return _failed(outcome, f"cannot validate the output with TextFSM: {exc}", "validation")
            outcome.untemplated = verdict.untemplated
            if verdict.document is not None:
                outcome.records = verdict.record_count
            if not verdict.valid:
                outcome.invalid = verdict.reason
        target = outcome.target
        if target is None:
            return outcome
        try:
            with self.cancellation.writing():
                if not _save(outcome, target, output, verdict):
                    return outcome
        except (CaptureError, DeviceError) as exc:
            return _failed(
                outcome,
                exc.reason if isinstance(exc, DeviceError) else str(exc),
                exc.kind if isinstance(exc, DeviceError) else "capture",
            )
        if outcome.history:
            # Taken here, where the output is at hand (in the device's thread or process),
            # so that the history of a large run only compares fingerprints.
            mark = fingerprint(output, outcome.platform)
            outcome.blob, outcome.significant = mark.blob, mark.significant
        return outcome


def _save(outcome: DeviceOutcome, target: Path, output: str, verdict: Verdict | None) -> bool:
    """Write the capture (its records, an invalid output); False: the capture is not written."""
    validation = outcome.validation
    if outcome.invalid is not None and validation is not None:
        if validation.store_failures:
            kept = invalid_path(target)
            _write(kept, output, "invalid output")
            outcome.invalid_path = kept
        if not validation.force_save:
            return False
    outcome.capture_bytes = write_capture(target, output)
    outcome.capture_path = target
    document = verdict.document if verdict is not None else None
    if document is not None:
        # The records always describe the capture beside them, also one saved by --force-save.
        path = records_path(target)
        _write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n", "records")
        outcome.records_path = path
    return True


def _failed(outcome: DeviceOutcome, reason: str, kind: str) -> DeviceOutcome:
    outcome.ok = False
    outcome.reason = one_line(reason)
    outcome.failure = kind
    return outcome
