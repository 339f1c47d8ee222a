"""From Submit to the next form: one whole vetting case, answered through Prefect's API.

    python bench/submit_latency.py [--cases 3]

Starts the stack the tests use (tests/prefect_stack.py: a Prefect server on
SQLite, `python -m deployments.serve` with make run's Prefect settings, a real
SMTP server), twice:

- **anchor**: the runner polling at Prefect's default (10 s), as `make run`
  served until December 2026;
- **make run**: the poll `make run` sets now (deployments/environment.py).

In each, `--cases` applications go through every form of the vetting and the
contract's signatures: step 1, the meeting, step 2, the decision, the
provider's signature, the municipality's signature. Each answer is sent the
moment its form is stored (the case that sat Scheduled longest in the issue's
trials), as the UI's Submit does (`resume_flow_run` with the answer). A sample
is the time from that call to the next form stored, polled every 0.05 s: what
staff wait for after Submit. The decision's next form is in another run (the
contract's signing, started by the approval), so its sample ends there.

Printed: each step's samples, then the median and the worst per setting, and
the ratio to the anchor of the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect.client.schemas.objects import FlowRun  # noqa: E402
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError  # noqa: E402

from models.clock import today  # noqa: E402
from tests.case_steps import (  # noqa: E402
    application_form,
    application_of,
    contract_run,
    decision_answer,
    meeting_answer,
    register,
    step1_answer,
    step2_answer,
)
from tests.prefect_stack import Stack, _start_stack  # noqa: E402

POLL = 0.05
SETTINGS: dict[str, Mapping[str, str]] = {
    "anchor (poll 10 s)": {"PREFECT_RUNNER_POLL_FREQUENCY": "10"},
    "make run": {},
}


class _Temp:
    """The one method of pytest's TempPathFactory that _start_stack uses."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


def _form_stored(stack: Stack, run_id: uuid.UUID, key: str) -> bool:
    run: FlowRun = stack.api.read_flow_run(run_id)
    state = run.state
    if state is None or not state.is_paused() or state.state_details.pause_key != key:
        return False
    keyset = state.state_details.run_input_keyset
    if not keyset:
        return False
    try:
        stack.api.read_flow_run_input(run_id, keyset["schema"])
    except (ObjectNotFound, PrefectHTTPStatusError) as error:
        if isinstance(error, PrefectHTTPStatusError) and error.response.status_code != 404:
            raise
        return False  # the run is Paused, its form not stored yet (prefect-notes A12.6)
    return True


def _until(check: Callable[[], bool], timeout: float = 180) -> None:
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise TimeoutError("no next form within the timeout")
        time.sleep(POLL)


def _submit(
    stack: Stack, run_id: uuid.UUID, answer: dict[str, Any], then: Callable[[], None]
) -> float:
    """Resume `run_id` with `answer`; seconds until `then` has seen the next form stored."""
    began = time.monotonic()
    result = stack.api.resume_flow_run(run_id, run_input=answer)
    assert result.status.value == "ACCEPT", result.details
    then()
    return time.monotonic() - began


def one_case(stack: Stack) -> dict[str, float]:
    """One application from step 1 to the provider's signature; a sample per Submit."""
    form = application_form()
    received = date.fromisoformat(form["received_on"])
    run = register(stack, form)

    def form_of(run_id: uuid.UUID, key: str) -> Callable[[], None]:
        return lambda: _until(lambda: _form_stored(stack, run_id, key))

    form_of(run, "step1-1")()
    application = application_of(stack, form["org_number"])
    meeting = meeting_answer()
    signing: list[uuid.UUID] = []

    def contract_form() -> None:
        signing.append(contract_run(stack, application.id)[1])
        form_of(signing[0], "signatures-0")()

    samples = {
        "steg 1": _submit(stack, run, step1_answer(received), form_of(run, "meeting-1")),
        "möte": _submit(stack, run, meeting, form_of(run, "step2")),
        "steg 2": _submit(
            stack,
            run,
            step2_answer(date.fromisoformat(meeting["meeting_on"])),
            form_of(run, "decision"),
        ),
        "beslut": _submit(stack, run, decision_answer(approve=True), contract_form),
    }
    provider = {"provider_signed_on": today().isoformat(), "registered_by": "Handläggare Test"}
    samples["utförarens underskrift"] = _submit(
        stack, signing[0], provider, form_of(signing[0], "signatures-1")
    )
    return samples


def measure(name: str, extra: Mapping[str, str], cases: int, root: Path) -> list[dict[str, float]]:
    running = _start_stack("sqlite", _Temp(root), extra)  # type: ignore[arg-type]
    stack = next(running)
    try:
        return [one_case(stack) for _ in range(cases)]
    finally:
        next(running, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="submit-latency-") as root:
        for name, extra in SETTINGS.items():
            results[name] = measure(name, extra, args.cases, Path(root))
    print(f"Submit to the next form stored, {args.cases} vetting cases per setting (seconds)\n")
    steps = list(next(iter(results.values()))[0])
    print(f"{'step':<24}" + "".join(f"{name:>28}" for name in results))
    for step in steps:
        cells = [
            " ".join(f"{case[step]:5.2f}" for case in cases).rjust(28) for cases in results.values()
        ]
        print(f"{step:<24}" + "".join(cells))
    print()
    anchor = [s for case in next(iter(results.values())) for s in case.values()]
    for name, cases in results.items():
        samples = [s for case in cases for s in case.values()]
        print(
            f"{name:<24} median {statistics.median(samples):5.2f} s, worst {max(samples):5.2f} s"
            f" ({statistics.median(samples) / statistics.median(anchor):.0%} of the anchor's"
            " median)"
        )


if __name__ == "__main__":
    main()
