"""Byt handläggare: the responsible officer of an application, and so of its contract's cases.

models/case_officer.py says why the application keeps the officer. The change is
audited on the application (who changed it, from whom, to whom: staff names, no
one else's), in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from models.application import Application
from models.audit import audit
from models.case_lookup import CaseNotFound, find_case
from models.case_officer import officer_of
from models.contract import Contract
from models.db import session_scope
from models.forms.officer import OfficerChange
from models.sv_format import case_no
from models.validation import normalise_email


class OfficerRefused(ValueError):
    """No application to keep the officer on; `swedish` is what staff read."""

    def __init__(self, message: str, swedish: str) -> None:
        super().__init__(message)
        self.swedish = swedish


@dataclass(frozen=True)
class OfficerChanged:
    application_no: str
    before: str
    after: str


def _application(session: Session, reference: str) -> Application:
    """The application by its number, or the application a contract (by its number) came from."""
    try:
        return find_case(session, Application, reference)
    except CaseNotFound:
        pass
    try:
        contract = find_case(session, Contract, reference)
    except CaseNotFound:
        raise OfficerRefused(
            "case: no application or contract with this number",
            "Ärendenummer: ingen ansökan eller inget avtal har det numret.",
        ) from None
    application = (
        session.get(Application, contract.application_id) if contract.application_id else None
    )
    if application is None:
        raise OfficerRefused(
            "case: the contract came from no application, which keeps the officer",
            "Ärendenummer: avtalet kom inte från en ansökan i lovflow, så det har ingen "
            "handläggare att byta. Påminnelserna går till kommunens funktionsadress.",
        )
    return application


@task(name="change-case-officer", cache_policy=NO_CACHE, persist_result=False)
def change_officer(change: OfficerChange) -> OfficerChanged:
    """Name `change.officer` the responsible officer; audited. Raises OfficerRefused."""
    email = normalise_email(change.officer_email.strip())
    with session_scope() as session:
        application = _application(session, change.case)
        before = application.case_officer or application.case_officer_email or ""
        application.case_officer = change.officer.strip()
        application.case_officer_email = email
        session.add(application)
        audit(
            session,
            application,
            "case_officer_changed",
            actor=change.changed_by.strip(),
            reason="Byt handläggare",
            details={"from": before, "to": application.case_officer, "to_email": email},
        )
        return OfficerChanged(case_no(application.id), before, application.case_officer)


@task(name="case-officer", cache_policy=NO_CACHE, persist_result=False)
def officer_line(entity: str, case_id: uuid.UUID) -> str:
    """The line every form shows under its case: who is responsible ("" for nobody)."""
    with session_scope() as session:
        officer = officer_of(session, entity, case_id)
    if not officer.shown:
        return ""
    return f"**Ansvarig handläggare:** {officer.shown} (byts med *Byt handläggare*)"
