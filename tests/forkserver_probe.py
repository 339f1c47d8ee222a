"""Run as `python -m tests.forkserver_probe`: prepares the forkserver as serve does,
starts one child the way Prefect's flow engine asks for one, and prints what the
child saw as JSON (tests/test_flow_run_processes.py reads it)."""

from __future__ import annotations

import json
import os
import sys
from multiprocessing import Queue
from typing import Any

import cloudpickle

from deployments.flow_run_processes import run_context, start_runs_from_forkserver
from flows.mail_check import send_test_letter


def _child(payload: bytes, queue: Queue[dict[str, Any]]) -> None:
    # Unpickle in the child, as Prefect's cloudpickle_wrapped_call does.
    flow = cloudpickle.loads(payload)
    import flows.mail_check

    queue.put(
        {
            "pid": os.getpid(),
            "own_session": os.getsid(0) == os.getpid(),
            "preloaded": "flows.mail_check" in sys.modules and "prefect.flow_engine" in sys.modules,
            "same_flow": flow is flows.mail_check.send_test_letter,
        }
    )


def main() -> None:
    start_runs_from_forkserver([send_test_letter])
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
