"""Deployment names: what staff see in the Prefect UI, so they are Swedish.

Kept apart from deployments/serve.py so that flows can start another
deployment by name (vetting starts contract signing) without importing serve.
"""

from __future__ import annotations

OUTBOX_DELIVERY = "Skicka köad e-post"
MAIL_CHECK = "Skicka testbrev"
REGISTER_APPLICATION = "Registrera ansökan"
CONTINUE_APPLICATION = "Fortsätt ansökan"
SIGN_CONTRACT = "Teckna avtal"
COMPLIANCE_SWEEP = "Daglig kontroll"

#: Flow names (kebab-case, English) as the API knows them.
VETTING_FLOW = "application-vetting"
SIGNING_FLOW = "contract-signing"


def full_name(flow: str, deployment: str) -> str:
    """ "flow/deployment", the form `run_deployment` and the CLI take."""
    return f"{flow}/{deployment}"
