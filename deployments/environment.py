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
        # 180); the zombie automation (deployments/zombie_automation.py) marks a run
        # Crashed after LOVFLOW_ZOMBIE_AFTER_SECONDS without one.
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
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
