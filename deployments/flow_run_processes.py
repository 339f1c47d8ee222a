"""Flow runs under `serve` start as forks of one prepared process, not new interpreters.

Prefect 3.8.8's runner starts each run of a served flow with
`multiprocessing.get_context("spawn")` (prefect/flow_engine.py, run_flow_in_subprocess):
a fresh interpreter that imports Prefect and the flow's module again, about 5.6 s of
a busy core per run on the 2-core machine (bench/flow_run_start.py). That is most of
the wait between Submit in the UI and the next form, and most of the CPU the suite
spends. Here the runner gets the "forkserver" context instead: one helper process
imports Prefect and every served flow's module once, and each run is a fork of it
(about 0.4 s). A fork of the helper, never of serve itself: serve runs threads and an
event loop, which must not be forked.

Two things make the fork equivalent to the spawn:
- a flow of our own modules is pickled by reference (module and name), so the child
  runs the very object its module defines; cloudpickle would otherwise copy the
  function by value, and pydantic cannot rebuild the form models of a copied
  function whose annotations are strings (`from __future__ import annotations`);
- each run gets a session of its own (deployments/run_session.py), as Prefect's own
  `python -m prefect.engine` process has, so a Ctrl-C sent to serve's process group
  reaches serve, which stops its runs in order, not every run at once.
"""

from __future__ import annotations

import copyreg
import importlib
import multiprocessing
import multiprocessing.context
from collections.abc import Iterable
from typing import Any

import prefect.flow_engine
from prefect import Flow

#: Imported by the helper before its first fork, so no run imports them again.
PRELOAD = ("prefect.flow_engine", "deployments.run_session", "deployments.flow_run_processes")


class _ForkserverMultiprocessing:
    """What prefect.flow_engine sees as `multiprocessing`: the real module, except
    that every context it asks for is the forkserver context."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._context = context

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        return self._context

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


def run_context() -> Any:
    """The multiprocessing context prefect.flow_engine now starts runs with."""
    return prefect.flow_engine.multiprocessing.get_context("spawn")  # type: ignore[attr-defined]


def flow_by_name(module: str, name: str) -> Flow[Any, Any]:
    """The flow object module `module` defines as `name` (the unpickling side)."""
    found = getattr(importlib.import_module(module), name)
    if not isinstance(found, Flow):
        raise TypeError(f"{module}.{name} is not a Prefect flow")
    return found


def _reduce_flow(flow: Flow[Any, Any]) -> Any:
    module, name = flow.fn.__module__, flow.fn.__name__
    try:
        defined = getattr(importlib.import_module(module), name, None)
    except ImportError:
        defined = None
    if defined is flow:
        return flow_by_name, (module, name)
    # A flow made at run time (tests, flow.with_options): pickled as Prefect would.
    return object.__reduce_ex__(flow, 4)


def start_runs_from_forkserver(flows: Iterable[Flow[Any, Any]]) -> None:
    """Make every flow run this process starts a fork of a helper that has already
    imported Prefect and the modules of `flows`. Call once, before the runner starts."""
    modules = sorted({flow.fn.__module__ for flow in flows})
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *modules])
    # Start the helper now, while serve has no threads yet, and not at the first run.
    from multiprocessing import forkserver

    forkserver.ensure_running()
    # One fork now, waited for: it returns once the helper has imported everything,
    # so the first form answered after a start does not wait for those imports.
    warm_up = context.Process(target=_ready, name="lovflow-forkserver-warm-up")
    warm_up.start()
    warm_up.join()
    copyreg.pickle(Flow, _reduce_flow)
    prefect.flow_engine.multiprocessing = _ForkserverMultiprocessing(context)  # type: ignore[attr-defined,assignment]


def _ready() -> None:
    """The warm-up fork's work: none (it only shows that the helper is ready)."""
