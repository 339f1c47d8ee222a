"""Run the same work in several threads released at the same moment (race tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_at_once(work: Callable[[], T], *, times: int = 2, timeout: float = 60) -> list[T]:
    """Run `work` in `times` threads released together; return what each returned."""
    start = threading.Barrier(times)
    results: list[T] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            start.wait(timeout=10)
            results.append(work())
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert errors == []
    return results
