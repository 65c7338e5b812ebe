from __future__ import annotations

import threading
import time

import pytest

from vcollector.transport.limits import SessionLimiter


def _hammer(limiter: SessionLimiter, keys: list[str]) -> tuple[dict[str, int], int]:
    lock = threading.Lock()
    current: dict[str, int] = {}
    peak: dict[str, int] = {}
    overall = [0, 0]

    def worker(key: str) -> None:
        with limiter.session(key):
            with lock:
                current[key] = current.get(key, 0) + 1
                peak[key] = max(peak.get(key, 0), current[key])
                overall[0] += 1
                overall[1] = max(overall[1], overall[0])
            time.sleep(0.02)
            with lock:
                current[key] -= 1
                overall[0] -= 1

    threads = [threading.Thread(target=worker, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak, overall[1]


def test_per_device_cap_holds() -> None:
    peak, _ = _hammer(SessionLimiter(per_device=2), ["a"] * 12 + ["b"] * 12)
    assert peak == {"a": 2, "b": 2}


def test_total_cap_holds() -> None:
    _, overall = _hammer(SessionLimiter(per_device=5, total=3), [f"d{i % 6}" for i in range(24)])
    assert overall == 3


def test_invalid_limits() -> None:
    with pytest.raises(ValueError):
        SessionLimiter(per_device=0)
    with pytest.raises(ValueError):
        SessionLimiter(total=0)
