"""Prefect settings for the embedded set-up, derived from lovflow's own settings.

Values are defaults only (os.environ.setdefault): an operator who points
PREFECT_API_URL at a central server, or sets PREFECT_HOME, keeps that value.
They must be applied before Prefect is imported, because Prefect reads its
settings from the environment when it first loads them.
"""

from __future__ import annotations

import os

from models.settings import Settings

LOCAL_HOST = "127.0.0.1"


def local_ui_url(settings: Settings) -> str:
    return f"http://{LOCAL_HOST}:{settings.prefect_port}"


def prefect_defaults(settings: Settings) -> dict[str, str]:
    home = settings.var_dir / "prefect"
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"{local_ui_url(settings)}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # Persisted results make a resumed (suspended) flow skip work it already did.
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        # A running flow sends a heartbeat this often (Prefect's minimum; its default is
        # 180); the zombie watch (deployments/zombie_watch.py) marks a Running run
        # Crashed after LOVFLOW_ZOMBIE_AFTER_SECONDS without one.
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        # Submit to the next form: a resumed run waits until the runner next asks the
        # server for runs to start. Prefect's default asks every 10 s, so staff waited
        # 10-22 s after Submit (prefect-notes.md A12.4); every second costs one small
        # query (and its deployment-ready update) per second. bench/submit_latency.py
        # measures both.
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        # SQLite "database is locked" (README): fewer, larger write transactions. A
        # transaction that reads and then writes is refused at once, without waiting
        # out busy_timeout, when another connection holds the write lock or has
        # committed since the read: Prefect's automations service does that for each
        # event while an automation exists (lovflow has none since issue 13), and its
        # API does it to create a run from a deployment and to resume one (answered 503
        # and retried by the client). Any other writer's commit can cause it, so batch
        # the writers that can wait:
        #
        # - The task-run recorder writes each task-run event in a transaction of its
        #   own (Prefect's default batch is 1), three per task: about half of all
        #   events. Batched, it writes every 5 s or per 100 events; task states reach
        #   the UI up to 5 s later.
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
        # - The event persister writes when 20 events are queued (Prefect's default)
        #   or every 5 s; 26 cases starting at once queue about 75 in 10 s. At 500 it
        #   writes every 5 s. Automations read events from the in-memory bus, not from
        #   the table, so only the UI's event feed sees them up to 5 s later.
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
        # - Each flow-run process posts its logs every 2 s (a commit each); every 5 s is
        #   still live enough in a run's log view.
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "5",
    }


def apply_prefect_defaults(settings: Settings) -> dict[str, str]:
    """Set each default that the environment does not already set; return the result."""
    for key, value in prefect_defaults(settings).items():
        os.environ.setdefault(key, value)
    # Basic auth on the embedded server (PREFECT_SERVER_API_AUTH_STRING): the serving
    # process `make run` starts is that server's client and needs the same login.
    # Kept out of the returned values, which are printed and compared.
    server_auth = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if server_auth:
        os.environ.setdefault("PREFECT_API_AUTH_STRING", server_auth)
    return {key: os.environ[key] for key in prefect_defaults(settings)}
