"""A case waiting for its next form is logged at INFO; a run that fails still at ERROR."""

from __future__ import annotations

import logging

import pytest

import flows.run_helpers  # noqa: F401  (installs the filter, as every case flow's import does)
from flows.wait_logging import WaitsAtInfo


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("Finished in state Suspended(type=PAUSED)", logging.INFO),
        ("Finished in state Paused()", logging.INFO),
        ("Finished in state Failed('Flow run encountered an exception')", logging.ERROR),
        ("Finished in state Crashed()", logging.ERROR),
    ],
)
def test_the_engine_record_of_a_wait_is_info_and_of_a_failure_error(
    message: str, level: int
) -> None:
    logger = logging.getLogger("prefect.flow_runs")
    assert any(isinstance(f, WaitsAtInfo) for f in logger.filters)
    kept = _Kept()
    logger.addHandler(kept)
    try:
        # As prefect/flow_engine.py logs every end (outside a run: not to the API).
        logger.log(logging.ERROR, message, extra={"send_to_api": False})
    finally:
        logger.removeHandler(kept)
    assert [(r.levelno, r.levelname) for r in kept.records] == [
        (level, logging.getLevelName(level))
    ]
