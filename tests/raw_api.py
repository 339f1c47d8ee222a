"""Prefect's REST API called the way Prefect's own client calls it.

Prefect's server on SQLite answers 503 "Service Unavailable" while its database is
locked by its own services (`is_client_retryable_exception` in
prefect/server/api/server.py; prefect-notes A10). Prefect's client sends such a request
again after a back-off (`_send_with_retry` in prefect/client/base.py: 408, 429, 502 and
503, up to PREFECT_CLIENT_MAX_RETRIES times), and so does the UI. A test that calls the
API with bare httpx fails on what every real caller rides out: CI failed that way at
stop 20, on POST /deployments/{id}/schedule under `make run`. So tests that call the API
by hand use Prefect's own httpx client, with its retries, and see any other answer as
it came.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect.client.base import PrefectHttpxSyncClient


def post(url: str, *, timeout: float = 30, **kwargs: Any) -> httpx.Response:
    """POST `url` with Prefect's client retries; the final answer is returned, not raised."""
    with PrefectHttpxSyncClient(raise_on_all_errors=False, timeout=timeout) as client:
        return client.post(url, **kwargs)
