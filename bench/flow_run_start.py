"""How long a served flow run takes to start: Prefect's spawn against lovflow's fork.

    python bench/flow_run_start.py [N]

Each sample starts one process as Prefect 3.8.8's runner does for a served flow
(multiprocessing's "spawn" context, a new interpreter that imports the flow engine
and a flow module), and the same through deployments/flow_run_processes.py (a fork
of a helper that imported them once). A sample ends when the child has the flow
object and reports back: the part of Submit-to-next-form the process start costs.
The anchor is the spawn figure of the same run.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from typing import Any

FLOW_MODULE = "flows.application_vetting"


def _ready(queue: Any) -> None:
    import importlib

    importlib.import_module("prefect.flow_engine")
    importlib.import_module(FLOW_MODULE)
    queue.put(time.monotonic())


def _sample(context: Any) -> float:
    queue = context.Queue()
    began = time.monotonic()
    process = context.Process(target=_ready, args=(queue,))
    process.start()
    ready = float(queue.get(timeout=120))
    process.join(60)
    return ready - began


def _figures(name: str, samples: list[float]) -> str:
    return (
        f"{name:<22} median {statistics.median(samples):5.2f} s  "
        f"(min {min(samples):.2f}, max {max(samples):.2f}, n={len(samples)})"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    spawn = [_sample(multiprocessing.get_context("spawn")) for _ in range(n)]

    from deployments.flow_run_processes import run_context, start_runs_from_forkserver
    from deployments.serve import served

    began = time.monotonic()
    start_runs_from_forkserver(item.flow for item in served())
    context = run_context()
    # The first fork waits for the helper to import Prefect and every flow module.
    _sample(context)
    first = time.monotonic() - began
    forked = [_sample(context) for _ in range(n)]

    print(_figures("spawn (anchor)", spawn))
    print(_figures("forkserver", forked))
    print(f"{'first run after serve':<22} {first:5.2f} s (the helper's imports, once per serve)")
    print(f"fork is {statistics.median(spawn) / statistics.median(forked):.1f}x faster")


if __name__ == "__main__":
    main()
