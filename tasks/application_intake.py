"""Registering an incoming application: the provider, the case, its deadlines, the receipt.

One transaction, like every step of vetting (tasks/vetting_store.py): the same
form registered twice finds the first application and sends nothing again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import select

from models.application import Application, ApplicationStatus, Service
from models.audit import audit
from models.business_manager import BusinessManager
from models.clock import today
from models.db import session_scope
from models.forms.vetting import ApplicationForm, ServiceChoice
from models.obligation import ObligationKind
from models.policy import load_policy
from models.provider import Provider, ProviderCreate
from models.provider_case import add_obligation
from models.sv_format import case_no, sv_date
from tasks.vetting_store import to_applicant

logger = logging.getLogger(__name__)

S = ApplicationStatus

_FROM_CHOICE = {ServiceChoice.service: Service.service, ServiceChoice.omvardnad: Service.omvardnad}


def deadline_problems(form: ApplicationForm, today: date) -> list[str]:
    """Asks staff to confirm a received day whose decision deadline has already passed
    (issue 15): the receipt would promise the applicant a date gone by; a typo in the
    year is the likelier cause. Swedish, naming the field; empty once confirmed."""
    due = load_policy(form.municipality).decision_due(form.received_on)  # a key once validated
    if due >= today or form.late_confirmed:
        return []
    return [
        f"Ansökan kom in: beslutsfristen ({sv_date(due)}) har redan gått ut, och kvittot "
        "skulle lova sökanden ett datum som passerat. Kontrollera datumet; stämmer det, "
        "kryssa i Registrera ändå."
    ]


def registration_problems(form: ApplicationForm) -> list[str]:
    """What the registration asks again for before anything is stored or sent."""
    return deadline_problems(form, today()) + replaced_problems(form)


def replaced_problems(form: ApplicationForm) -> list[str]:
    """Why `form` cannot be registered although it is valid: the provider it replaces
    (ownership change, förfrågningsunderlaget §4.6-4.7) is not registered. Swedish,
    naming the field, without the number (an enskild firma's is a personnummer).

    The registration flow asks again with this before `register`, which refuses
    the same (a provider removed in between) by failing.
    """
    if not form.replaces_org_number:
        return []
    with session_scope() as session:
        earlier = session.exec(
            select(Provider.id).where(Provider.org_number == form.replaces_org_number)
        ).first()
    if earlier is not None:
        return []
    return ["Ersätter utförare: det finns ingen registrerad utförare med det organisationsnumret."]


@task(name="register-application", cache_policy=NO_CACHE, persist_result=False)
def register(form: ApplicationForm) -> uuid.UUID:
    """Store an incoming application, its deadlines and the receipt letter; return its id.

    The same form registered twice (a double click, a re-run) finds the first
    application: one per provider, municipality and received date.
    """
    with session_scope() as session:
        policy = load_policy(form.municipality)
        provider = session.exec(
            select(Provider).where(Provider.org_number == form.org_number)
        ).first()
        if provider is None:
            provider = Provider.model_validate(
                ProviderCreate(
                    name=form.company_name, org_number=form.org_number, email=form.contact_email
                )
            )
            session.add(provider)
            session.flush()
            audit(session, provider, "created", actor=form.registered_by)
        elif (provider.name, provider.email) != (form.company_name, form.contact_email):
            # The application is the provider's latest word on its name and address.
            audit(
                session,
                provider,
                "contact_updated",
                actor=form.registered_by,
                details={"email_changed": provider.email != form.contact_email},
            )
            provider.name, provider.email = form.company_name, form.contact_email
            session.add(provider)

        existing = session.exec(
            select(Application).where(
                Application.provider_id == provider.id,
                Application.municipality_id == form.municipality,
                Application.received_on == form.received_on,
            )
        ).first()
        if existing is not None:
            logger.info("Application %s already registered", case_no(existing.id))
            return existing.id

        replaces: uuid.UUID | None = None
        if form.replaces_org_number:
            earlier = session.exec(
                select(Provider).where(Provider.org_number == form.replaces_org_number)
            ).first()
            if earlier is None:
                raise ValueError(
                    "replaces_org_number: no provider with that organisation number is registered"
                )
            replaces = earlier.id

        application = Application(
            provider_id=provider.id,
            municipality_id=form.municipality,
            received_on=form.received_on,
            services=[_FROM_CHOICE[choice].value for choice in form.services],
            capacity_hours_per_month=form.capacity_hours_per_month,
            subcontractors=form.subcontractors or None,
            replaces_provider_id=replaces,
            case_officer=form.registered_by,
            case_officer_email=form.case_officer_email,
        )
        session.add(application)
        session.flush()
        session.add(
            BusinessManager(
                provider_id=provider.id,
                application_id=application.id,
                full_name=form.business_manager,
                notified_on=form.received_on,
            )
        )
        audit(
            session,
            application,
            "registered",
            actor=form.registered_by,
            to_status=S.received,
            details={
                "received_on": form.received_on.isoformat(),
                "municipality": form.municipality,
                "replaces_provider_id": str(replaces) if replaces else None,
            },
        )
        decision_due = policy.decision_due(form.received_on)
        for kind, due in (
            (ObligationKind.decision_deadline, decision_due),
            (ObligationKind.application_binding, policy.binding_ends(form.received_on)),
        ):
            add_obligation(session, application, kind, due)
        to_applicant(
            session,
            application,
            provider,
            policy,
            message="received",
            template="application-received",
            context={
                "received_on": form.received_on,
                "decision_by": decision_due,
            },
        )
        logger.info("Registered application %s", case_no(application.id))
        return application.id
