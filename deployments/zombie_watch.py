"""The watch that marks a run whose process died as Crashed (a "zombie").

A flow run's process sends a heartbeat event every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
seconds while it runs (a thread, so a busy event loop does not stop it). When the
process is killed (kill -9, out of memory, a machine that lost power) the run stays
Running in the API forever and nothing runs it.

Every LOVFLOW_ZOMBIE_CHECK_SECONDS the watch asks the API which runs are Running
now and, for each, when its newest stored heartbeat occurred; a run silent for
LOVFLOW_ZOMBIE_AFTER_SECONDS is marked Crashed (the decision is
deployments/silent_runs.py's). Only Running runs are ever candidates, read from Prefect's
database at that moment: a run that waits for a form (Suspended/Paused), has not
started or has ended is never touched, whatever events were lost.

Earlier versions used a Prefect automation that crashed a run on the event stream
alone, when no state event followed its last heartbeat. On SQLite its bookkeeping
was the server's main source of "database is locked": each flow-run event was
evaluated in a transaction that reads the automation's bucket and then writes it,
which SQLite refuses at once when another connection has written meanwhile; after
three tries the event went to the dead-letter queue, and a lost "Suspended" event
crashed a case that was only waiting (issue 13). With no automation, the server
evaluates nothing per event. The watch removes that automation where an earlier
version created it.

Bound: a run whose process died is marked Crashed within LOVFLOW_ZOMBIE_AFTER_SECONDS
+ LOVFLOW_ZOMBIE_CHECK_SECONDS + 10 s (the event persister stores heartbeats in
batches every few seconds) after its last heartbeat, or after the server last
answered again from a stall if that is later (silence while the server stalls does
not count, deployments/silent_runs.py), so within 30 + 90 + 15 +
10 s (under 2.5 minutes) of its death with the defaults, while the watch runs.

Where it runs: `make run` runs it in its supervisor (deployments/local.py); the scaled
set-up runs `python -m deployments.zombie_watch` on one machine, beside the server,
under a service manager. Two watches are harmless: a run already Crashed is no longer
Running. A crashed case is continued with "Fortsätt ansökan" (or the flow's own
restart) from its stored status.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import get_client

from deployments.silent_runs import (
    CRASH_MESSAGE,
    Hearing,
    Verdict,
    crash_if_still_silent,
    running_runs,
)
from models.settings import get_settings

__all__ = ["CRASH_MESSAGE", "LEGACY_AUTOMATION", "ZombieWatch", "remove_legacy_automation"]

logger = logging.getLogger("lovflow.zombie_watch")

#: The automation earlier versions created; it crashed waiting cases when an event
#: was lost, so the watch deletes it.
LEGACY_AUTOMATION = "lovflow: krascha tysta körningar"


async def remove_legacy_automation() -> int:
    """Delete the automation earlier versions created; return how many were deleted."""
    async with get_client() as client:
        found = await client.read_automations_by_name(LEGACY_AUTOMATION)
        for automation in found:
            await client.delete_automation(automation.id)
    return len(found)


async def sweep(window: timedelta, hearing: Hearing | None = None) -> list[uuid.UUID]:
    """Judge every Running run once; return the ids of those marked Crashed.

    `hearing` carries, from sweep to sweep, when the server last answered after a
    stall (deployments/silent_runs.py): silence before that does not count."""
    hearing = hearing or Hearing()
    crashed = []
    async with get_client() as client:
        asked = datetime.now(UTC)
        runs = await running_runs(client)
        hearing.answered(asked)
        for run in runs:
            judgement = await crash_if_still_silent(client, run.id, window, hearing)
            if judgement.verdict is Verdict.SILENT:
                logger.warning(
                    "Marked flow run %s (%s) Crashed: no heartbeat since %s",
                    run.id,
                    run.name,
                    judgement.last_sign,
                )
                crashed.append(run.id)
    return crashed


class ZombieWatch:
    """Runs `sweep` every `every` until stopped, in a thread of its own (make run's
    supervisor) or in the foreground (`run_forever`, the scaled set-up)."""

    def __init__(self, window: timedelta | None = None, every: timedelta | None = None) -> None:
        settings = get_settings()
        self.window = window or timedelta(seconds=settings.zombie_after_seconds)
        self.every = every or timedelta(seconds=settings.zombie_check_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.hearing = Hearing()

    def start(self) -> ZombieWatch:
        self._thread = threading.Thread(target=self.run_forever, name="zombie-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_forever(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        try:
            removed = await remove_legacy_automation()
            if removed:
                logger.warning("Deleted the old zombie automation %r", LEGACY_AUTOMATION)
        except Exception:  # the server may be restarting; the sweeps below go on
            logger.exception("Could not look for the old zombie automation")
        away = False
        while not self._stop.is_set():
            try:
                if away:  # heartbeats sent meanwhile may be lost: count from now
                    self.hearing.stalled(datetime.now(UTC))
                await sweep(self.window, self.hearing)
                away = False
            except Exception:  # a server that is away for a moment must not end the watch
                logger.exception("The zombie watch could not check the running runs")
                away = True
            await asyncio.to_thread(self._stop.wait, self.every.total_seconds())


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s | %(levelname)-7s | %(name)s - %(message)s"
    )
    # httpx logs every request at INFO: four lines each 15 s would bury the watch's own.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    watch = ZombieWatch()

    def stop(signum: int, frame: object) -> None:
        watch.stop()  # in the foreground there is no thread to join

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info(
        "Watching for silent runs every %.0f s (window %.0f s)",
        watch.every.total_seconds(),
        watch.window.total_seconds(),
    )
    watch.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
