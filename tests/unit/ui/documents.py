"""Run documents (the --json shape) for the report tests, and a strict reader of the page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

START = datetime(2026, 11, 30, 2, 0, 0, tzinfo=timezone.utc)
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source", "area", "base", "embed"}
SVG_EMPTY = {"line", "rect", "path", "circle"}  # written as <line .../> inside the inline SVG


def iso(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def device(
    name: str,
    start: float = 0.0,
    end: float = 1.0,
    *,
    status: str = "success",
    reason: str | None = None,
    failure: str | None = None,
    address: str = "10.0.0.1",
    device_id: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "device_id": device_id,
        "address": address,
        "status": status,
        "reason": reason,
        "failure": failure,
        "started": iso(start),
        "ended": iso(end),
        "elapsed_ms": int((end - start) * 1000),
        "capture_path": None,
        "capture_bytes": None,
        "credential": "lab",
        "credentials_tried": ["lab"],
        "worker": None,
        "change": None,
        "lines_added": None,
        "lines_removed": None,
        "revision": None,
        **extra,
    }


def job(job_id: str, devices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    failed = sum(1 for d in devices if d["status"] != "success")
    return {
        "job_id": job_id,
        "file": f"/jobs/{job_id}.json",
        "capture_type": "configs",
        "status": "failed" if failed else "success",
        "error": None,
        "started": iso(0),
        "ended": iso(max([d_end(d) for d in devices], default=0.0)),
        "elapsed_ms": 1000,
        "devices_matched": len(devices),
        "devices_succeeded": len(devices) - failed,
        "devices_failed": failed,
        "captures_saved": len(devices) - failed,
        "devices": devices,
        **extra,
    }


def d_end(entry: dict[str, Any]) -> float:
    return (datetime.fromisoformat(entry["ended"]) - START).total_seconds()


def document(jobs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    devices = [d for j in jobs for d in j.get("devices", [])]
    end = max([d_end(d) for d in devices], default=1.0)
    return {
        "schema": 1,
        "tool": "run_job",
        "version": "0.4.0",
        "status": "success" if all(j["status"] == "success" for j in jobs) and jobs else "failed",
        "error": None,
        "interrupted": False,
        "started": iso(0),
        "ended": iso(end),
        "elapsed_ms": int(end * 1000),
        "totals": {
            "jobs": len(jobs),
            "jobs_succeeded": sum(1 for j in jobs if j["status"] == "success"),
            "devices_succeeded": sum(1 for d in devices if d["status"] == "success"),
            "devices_failed": sum(1 for d in devices if d["status"] != "success"),
            "captures_saved": 0,
            "changed": sum(1 for d in devices if d.get("change") == "changed"),
            "unchanged": sum(1 for d in devices if d.get("change") == "unchanged"),
            "new": sum(1 for d in devices if d.get("change") == "new"),
        },
        "jobs": jobs,
        **extra,
    }


class Page(HTMLParser):
    """The page read strictly: every element closed in order, one doctype first; what it holds."""

    def __init__(self, text: str, *, doctype: bool = True) -> None:
        """``doctype=False`` reads a serialised DOM (``<html>…</html>``, no doctype)."""
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[str] = []
        self.doctype: str | None = None
        self.text_parts: list[str] = []
        self.first = doctype
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")

    def handle_decl(self, decl: str) -> None:
        if not self.first:
            self.problems.append("doctype is not first")
        self.doctype = decl
        self.first = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.first:
            self.problems.append(f"<{tag}> before the doctype")
        self.first = False
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID and tag not in SVG_EMPTY:
            self.problems.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def elements(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        """Attributes of every ``tag`` element (with class ``cls``, when given)."""
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and (cls is None or cls in (attrs.get("class") or "").split())
        ]
