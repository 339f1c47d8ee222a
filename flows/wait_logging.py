"""A case that waits for staff is normal: Prefect's "Finished in state Suspended" at INFO.

Prefect 3.8.8's flow engine logs the end of every run that did not complete at
ERROR (prefect/flow_engine.py, AsyncFlowRunEngine: `logging.INFO if
state.is_completed() else logging.ERROR`), so each wait for a form showed as an
error in the run's log, in the UI and under `make run` (issue 15). A run that
fails or crashes still logs at ERROR; only the Suspended and Paused ends, which
are a case waiting for its next form, are logged at INFO.
"""

from __future__ import annotations

import logging

#: What the engine says when a run stops to wait (str of a Suspended or Paused state).
WAITING = ("Finished in state Suspended", "Finished in state Paused")


class WaitsAtInfo(logging.Filter):
    """Lowers the engine's "finished" record of a waiting run from ERROR to INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and str(record.msg).startswith(WAITING):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


def log_waits_at_info() -> None:
    """Install the filter on the logger of flow runs, once per process (forks inherit it)."""
    logger = logging.getLogger("prefect.flow_runs")
    if not any(isinstance(existing, WaitsAtInfo) for existing in logger.filters):
        logger.addFilter(WaitsAtInfo())
