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
REGISTER_MONTHLY_REPORT = "Registrera månadsrapport"
REGISTER_CUSTOMER_COUNT = "Registrera kundantal"
IMPORT_MONTHLY_REPORTS = "Importera månadsrapporter"
IMPORT_CUSTOMER_COUNTS = "Importera kundantal"
REVIEW_PROPOSAL = "Pröva förslag"
FULFIL_OBLIGATION = "Kvittera skyldighet"
REGISTER_LEX_SARAH = "Registrera lex Sarah-rapport"
CONTINUE_LEX_SARAH = "Fortsätt lex Sarah"
NEW_MANAGER = "Ny verksamhetsansvarig"
CONTINUE_MANAGER = "Fortsätt verksamhetsansvarig"
ISSUE_WARNING = "Utfärda varning"
END_CONTRACT = "Avsluta avtal"
CHANGE_OFFICER = "Byt handläggare"

#: Flow names (kebab-case, English) as the API knows them.
VETTING_FLOW = "application-vetting"
SIGNING_FLOW = "contract-signing"
REGISTER_REPORT_FLOW = "register-monthly-report"
REGISTER_COUNT_FLOW = "register-customer-count"
IMPORT_REPORTS_FLOW = "import-monthly-reports"
IMPORT_COUNTS_FLOW = "import-customer-counts"
PROPOSAL_FLOW = "proposal-review"
LEX_SARAH_FLOW = "lex-sarah"
MANAGER_FLOW = "business-manager-change"
WARNING_FLOW = "warning-and-termination"
END_CONTRACT_FLOW = "contract-termination"
OFFICER_FLOW = "case-officer-change"


def full_name(flow: str, deployment: str) -> str:
    """ "flow/deployment", the form `run_deployment` and the CLI take."""
    return f"{flow}/{deployment}"
