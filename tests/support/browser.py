"""A real browser for the report tests: headless Chromium driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe``: the protocol's JSON messages travel
over two pipes (our fds become its fds 3 and 4), so no port, no websocket and no extra
package is needed. Everything the page reports is collected while it loads: uncaught
exceptions, console errors and warnings (``console.error``, CSP violations, failed loads:
the ``Log`` domain) and every URL the page asks for (``Network``). A missing Chromium skips
the test on a developer's machine and fails it under CI (``VCOLLECTOR_REQUIRE_BROWSER=1``,
set by ``.ci/run``, which installs Debian's ``chromium``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "VCOLLECTOR_REQUIRE_BROWSER"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


def require_chromium() -> str:
    """The executable; skips the test without one (fails it under CI)."""
    found = find_chromium()
    if found:
        return found
    message = (
        "no headless browser: install Debian's chromium (apt-get install chromium; .ci/run does) "
        f"to render the report; {REQUIRE_ENV}=1 makes this a failure"
    )
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message)
    pytest.skip(message)


class BrowserError(Exception):
    """Chromium did not answer as the protocol says."""


@dataclass
class Chromium:
    """One headless Chromium with one page; a context manager that always ends it."""

    executable: str
    width: int = 1400
    height: int = 2000
    timeout: float = 30.0
    errors: list[str] = field(default_factory=list)  # exceptions, console errors, blocked or failed loads
    warnings: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL asked for, the page's own included
    _process: subprocess.Popen[bytes] | None = None
    _to: int = -1
    _from: int = -1
    _buffer: bytes = b""
    _next_id: int = 0
    _session: str | None = None
    _events: list[dict[str, Any]] = field(default_factory=list)
    _profile: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Chromium:
        self._profile = tempfile.TemporaryDirectory(prefix="vcollector-chromium-")
        ours_read, theirs_write = os.pipe()
        theirs_read, ours_write = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads what we write, its fd 4 writes to us
            read, write = os.dup(theirs_read), os.dup(theirs_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self._process = subprocess.Popen(
            [
                self.executable,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile.name}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            preexec_fn=wire,  # only dup2, before exec
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers are in its process group: ended with it
        )
        os.close(theirs_read)
        os.close(theirs_write)
        self._to, self._from = ours_write, ours_read
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Runtime", "Log", "Page", "Network", "DOM"):
                self.call(f"{domain}.enable")
            self.call(
                "Emulation.setDeviceMetricsOverride",
                width=self.width,
                height=self.height,
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            with contextlib.suppress(Exception):
                self._session = None
                self._send("Browser.close", {})
                self._process.wait(5)
            if self._process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)  # the group we started, by its id
                self._process.wait(10)
            self._process = None
        for fd in (self._to, self._from):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._to = self._from = -1
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    # --- the protocol ----------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any]) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session:
            message["sessionId"] = self._session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        """The next message, or None at the deadline."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._from], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed the DevTools pipe (did it crash?)")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._note(message)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its result (events that arrive meanwhile are noted)."""
        wanted = self._send(method, params)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message is None:
                raise BrowserError(f"no answer to {method} within {self.timeout}s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message["method"], message.get("params", {})
        self._events.append(message)
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            self.errors.append(f"uncaught: {text}")
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])
            )
            if params.get("type") in {"error", "assert"}:
                self.errors.append(f"console.{params['type']}: {text}")
            elif params.get("type") == "warning":
                self.warnings.append(f"console.warn: {text}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            line = f"{entry.get('source', 'log')}: {entry.get('text', '')}"
            if entry.get("level") == "error":
                self.errors.append(line)
            elif entry.get("level") == "warning":
                self.warnings.append(line)
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))
        elif method == "Network.loadingFailed":
            reason = params.get("blockedReason") or params.get("errorText") or "failed"
            self.errors.append(f"load failed ({reason}): request {params.get('requestId')}")

    # --- what the tests use ----------------------------------------------------------

    def load(self, url: str, settle: float = 0.5) -> None:
        """Open ``url`` and wait for its load event, then ``settle`` seconds for late messages."""
        seen = len(self._events)
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + self.timeout
        while not any(event["method"] == "Page.loadEventFired" for event in self._events[seen:]):
            if self._receive(deadline) is None:
                raise BrowserError(f"{url} did not finish loading within {self.timeout}s")
        end = time.monotonic() + settle
        while self._receive(end) is not None:
            pass

    def outer_html(self) -> str:
        """The document as the browser holds it after parsing (``<html>…</html>``)."""
        root = self.call("DOM.getDocument", depth=-1)["root"]
        element = next(child for child in root["children"] if child.get("nodeName") == "HTML")
        html: str = self.call("DOM.getOuterHTML", nodeId=element["nodeId"])["outerHTML"]
        return html

    def box(self, selector: str) -> tuple[float, float, float, float] | None:
        """(x, y, width, height) of the first element matching ``selector``, or None."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            return None
        quad = self.call("DOM.getBoxModel", nodeId=node)["model"]["border"]
        xs, ys = quad[0::2], quad[1::2]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)

    def screenshot(self, clip: tuple[float, float, float, float] | None = None, scale: float = 1.0) -> bytes:
        """A PNG of the viewport, or of ``clip`` (x, y, width, height) at ``scale``."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            x, y, width, height = clip
            params["clip"] = {"x": x, "y": y, "width": width, "height": height, "scale": scale}
            params["captureBeyondViewport"] = True
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])


@dataclass(frozen=True)
class Image:
    """A decoded PNG: ``width`` x ``height`` RGB pixels."""

    width: int
    height: int
    pixels: list[tuple[int, int, int]]

    def count(self, colour: str) -> int:
        """Pixels of exactly ``colour`` (``#rrggbb``)."""
        wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return sum(1 for pixel in self.pixels if pixel == wanted)

    def most_common_share(self) -> float:
        """The share of the commonest colour: 1.0 for a blank image."""
        counts: dict[tuple[int, int, int], int] = {}
        for pixel in self.pixels:
            counts[pixel] = counts.get(pixel, 0) + 1
        return max(counts.values()) / len(self.pixels)


def decode_png(data: bytes) -> Image:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) with zlib only."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour_type}, interlace {interlace}")
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(b"".join(chunks))
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        pixels.extend(zip(line[0::channels], line[1::channels], line[2::channels], strict=True))
        previous = line
    return Image(width, height, pixels)


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        return
    for i in range(len(line)):
        left = line[i - step] if i >= step else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = previous[i - step] if i >= step else 0
            guess = left + up - corner
            pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        else:
            raise ValueError(f"bad PNG filter {kind}")


def write_page(directory: Path, name: str, html: str) -> Path:
    """A test page on disk (for the checker's own tests)."""
    path = directory / name
    path.write_text(html, encoding="utf-8")
    return path
