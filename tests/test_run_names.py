"""Run names staff read in the Prefect UI say which case or day a run is about."""

from __future__ import annotations

from flows.compliance_sweep import _run_name
from models.clock import today


def test_a_scheduled_sweep_is_named_by_the_day_it_checks() -> None:
    # A scheduled run has no `as_of` (prefect.runtime gives no parameters outside a run,
    # as for a run started without them): the name says today, never "kontroll None".
    assert _run_name() == f"kontroll {today().isoformat()}"
