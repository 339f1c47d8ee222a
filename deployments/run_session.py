"""Imported only by the forkserver helper (deployments/flow_run_processes.py): every
process it forks for a flow run starts a session of its own, as the process Prefect
starts with `python -m prefect.engine` does, so a signal sent to serve's process
group (Ctrl-C, deployments/local.py's SIGINT) does not reach the runs directly."""

from __future__ import annotations

import os

os.register_at_fork(after_in_child=os.setsid)
