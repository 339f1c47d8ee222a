"""Run as `python -m tests.forkserver_probe`: prepares the forkserver as serve does,
starts one child the way Prefect's flow engine asks for one, and prints what the
child saw as JSON (tests/test_flow_run_processes.py reads it).

lovflow and Prefect are imported inside main() only: the child imports this module
again before it runs `_child`, and a top-level import would put the flow's module in
its sys.modules whether or not the helper had preloaded it."""

from __future__ import annotations

import json
import os
import sys
from multiprocessing import Queue
from typing import Any

import cloudpickle

FLOW_MODULE = "flows.mail_check"


def _child(payload: bytes, queue: Queue[dict[str, Any]]) -> None:
    # Read before unpickling: unpickling the flow imports its module.
    preloaded = FLOW_MODULE in sys.modules and "prefect.flow_engine" in sys.modules
    # Unpickle in the child, as Prefect's cloudpickle_wrapped_call does.
    flow = cloudpickle.loads(payload)
    queue.put(
        {
            "pid": os.getpid(),
            "own_session": os.getsid(0) == os.getpid(),
            "preloaded": preloaded,
            "same_flow": flow is sys.modules[FLOW_MODULE].send_test_letter,
        }
    )


def main() -> None:
    from deployments.flow_run_processes import run_context, start_runs_from_forkserver
    from flows.mail_check import send_test_letter

    # --no-flows: the helper preloads Prefect only (the test that the check can fail).
    start_runs_from_forkserver([] if "--no-flows" in sys.argv else [send_test_letter])
    # What prefect/flow_engine.py run_flow_in_subprocess calls.
    context = run_context()
    queue: Queue[dict[str, Any]] = context.Queue()
    process = context.Process(target=_child, args=(cloudpickle.dumps(send_test_letter), queue))
    process.start()
    seen = queue.get(timeout=60)
    process.join(60)
    seen |= {"kind": type(process).__name__, "exitcode": process.exitcode, "parent": os.getpid()}
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
