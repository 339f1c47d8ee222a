"""Database work for contract signing: each function is one transaction.

A contract applies only when both parties have signed (LOV 2 kap. 2 §; seed
002 §8.3: "giltigt först efter ... båda parter"). The municipality sends it
"snarast" after the approval; operations start "snarast" after both have
signed. As in vetting, each step is stored with its audit event and its letter
in one transaction, and repeating a step changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel
from sqlmodel import Session

from models.application import SERVICE_LABELS, Application, Service
from models.calendar import add_months, add_working_days
from models.case_lookup import attach_run, find_id, from_row, load_view
from models.clock import today
from models.contract import Contract, ContractStatus
from models.db import session_scope
from models.documents import render_contract
from models.email_queue import Attachment
from models.forms.fields import future_problems
from models.forms.vetting import SignatureForm
from models.obligation import ObligationKind, ObligationStatus
from models.policy import Policy
from models.provider_case import add_obligation, fulfil_if_open, load_for_update, policy_of
from models.provider_letters import CaseLetters
from models.state_machine import change_status
from models.sv_format import case_no
from models.vetting import Assessment

logger = logging.getLogger(__name__)

C = ContractStatus

STATUS_TEXT = {
    C.draft: "utkast",
    C.sent_for_signature: "skickat för underskrift",
    C.partially_signed: "underskrivet av en part",
    C.active: "gäller",
    C.notice_given: "uppsagt",
    C.interim_terminated: "interimistiskt hävt",
    C.ended: "upphört",
    C.cancelled: "makulerat",
}


class ContractView(BaseModel):
    id: uuid.UUID
    case_no: str
    status: ContractStatus
    policy_name: str
    application_case_no: str | None
    sent_for_signature_on: date | None
    sign_by: date | None
    provider_signed_on: date | None
    municipality_signed_on: date | None
    starts_on: date | None
    ends_on: date | None
    flow_run_id: uuid.UUID | None


def sign_by(policy: Policy, sent_on: date) -> date:
    """The date the provider is asked to sign by: sent + the policy's reminder working days.

    The seed says only "snarast" (002 §8.3); the number of working days is the
    policy's (default 5), and the reminder goes out on that day if no
    signature has come.
    """
    return add_working_days(sent_on, policy.contract.signature_reminder_working_days)


def contract_view(session: Session, contract: Contract) -> ContractView:
    policy = policy_of(session, contract)
    return from_row(
        ContractView,
        contract,
        case_no=case_no(contract.id),
        policy_name=policy.name,
        application_case_no=case_no(contract.application_id) if contract.application_id else None,
        sign_by=(
            sign_by(policy, contract.sent_for_signature_on)
            if contract.sent_for_signature_on
            else None
        ),
    )


@task(name="find-contract", cache_policy=NO_CACHE, persist_result=False)
def resolve_contract(reference: str) -> uuid.UUID:
    return find_id(Contract, reference)


@task(name="load-contract", cache_policy=NO_CACHE, persist_result=False)
def load_contract(contract_id: uuid.UUID) -> ContractView:
    return load_view(Contract, contract_id, contract_view)


@task(name="take-over-contract", cache_policy=NO_CACHE, persist_result=False)
def take_over_contract(contract_id: uuid.UUID, flow_run_id: uuid.UUID) -> uuid.UUID | None:
    """Make `flow_run_id` the run that drives the contract; return the run it replaces."""
    return attach_run(Contract, contract_id, flow_run_id)


def deviation_rule_text(policy: Policy) -> str:
    """The monthly deviation-report deadline as the contract states it (seeds 000, 002 §6.8)."""
    rule = policy.deviation_report
    if rule.due == "first_working_day_of_next_month":
        return "senast första vardagen i månaden efter den månad rapporten gäller"
    text = f"senast den {rule.day}:e i månaden efter den månad rapporten gäller"
    if rule.roll_forward:
        text += " (infaller dagen inte på en vardag gäller närmast följande vardag)"
    return text


@task(name="send-contract-for-signature", cache_policy=NO_CACHE, persist_result=False)
def send_for_signature(contract_id: uuid.UUID, sent_on: date) -> None:
    """Render the contract, keep the text, and queue it to the provider for signature."""
    with session_scope() as session:
        contract, provider, policy = load_for_update(session, Contract, contract_id)
        if contract.status is not C.draft:
            return
        document = render_contract(
            {
                "municipality": policy.municipality,
                "provider_name": provider.name,
                "org_number": provider.org_number,
                "provider_email": provider.email,
                "case_id": contract.id,
                "application_case_id": contract.application_id or contract.id,
                "services": [SERVICE_LABELS[Service(s)] for s in contract.services],
                "capacity_hours_per_month": contract.capacity_hours_per_month,
                "term_years": policy.contract.term_years,
                "extension_years": policy.contract.extension_years,
                "notice_provider_months": policy.contract.notice_provider_months,
                "notice_municipality_months": policy.contract.notice_municipality_months,
                "deviation_report_rule": deviation_rule_text(policy),
                "created_on": sent_on,
            }
        )
        due = sign_by(policy, sent_on)
        change_status(
            session,
            contract,
            C.sent_for_signature,
            actor="system:flow",
            reason="avtal skickat för underskrift",
            details={"sign_by": due.isoformat()},
            sent_for_signature_on=sent_on,
            document_html=document,
        )
        add_obligation(session, contract, ObligationKind.contract_signature, due)
        number = case_no(contract.id)
        CaseLetters(contract, contract.municipality_id, provider, policy).queue(
            session,
            "for-signature",
            "contract-for-signature",
            {
                "reason": f"er ansökan om att bli utförare i {policy.municipality} har godkänts",
                "attachment_name": f"avtal-{number}.html",
                "sign_by": due,
                "submit_to": policy.mail.address_for("procurement"),
                "term_years": policy.contract.term_years,
                "extension_years": policy.contract.extension_years,
                "starts_hint": "snarast efter att båda parter har undertecknat",
            },
            [
                Attachment(
                    filename=f"avtal-{number}.html",
                    content_type="text/html; charset=utf-8",
                    data=document.encode("utf-8"),
                )
            ],
        )
        logger.info("Contract %s sent for signature", number)


def signature_problems(view: ContractView, answer: SignatureForm) -> list[str]:
    """Why a signature registration cannot be stored, in Swedish; empty when it can."""
    problems: list[str] = []
    sent = view.sent_for_signature_on
    new_provider = answer.provider_signed_on is not None and view.provider_signed_on is None
    new_municipality = (
        answer.municipality_signed_on is not None and view.municipality_signed_on is None
    )
    for title, given, stored in (
        ("Utföraren skrev under", answer.provider_signed_on, view.provider_signed_on),
        ("Kommunen skrev under", answer.municipality_signed_on, view.municipality_signed_on),
    ):
        if given is not None and stored is not None and given != stored:
            problems.append(f"{title}: redan registrerat som {stored.isoformat()}.")
        problems += future_problems(title, given, today())
        if given is not None and sent is not None and given < sent:
            problems.append(
                f"{title}: kan inte vara före {sent.isoformat()}, då avtalet skickades."
            )
    if not (new_provider or new_municipality) and not problems:
        problems.append("Ange minst ett nytt datum för en underskrift.")
    if new_municipality and not (answer.municipality_signatory or "").strip():
        problems.append("Undertecknare för kommunen: ange namn och titel.")
    provider_on = view.provider_signed_on or answer.provider_signed_on
    municipality_on = view.municipality_signed_on or answer.municipality_signed_on
    if answer.starts_on is not None:
        if provider_on is None or municipality_on is None:
            problems.append("Startdatum: anges när båda parter har skrivit under.")
        elif answer.starts_on < max(provider_on, municipality_on):
            problems.append(
                "Startdatum: avtalet gäller först när båda har skrivit under; "
                "startdatum kan inte vara före den senare underskriften."
            )
    return problems


@task(name="record-signatures", cache_policy=NO_CACHE, persist_result=False)
def record_signatures(contract_id: uuid.UUID, answer: dict[str, Any]) -> ContractStatus:
    """Store the signature dates; with both, activate the contract. Returns the new status."""
    form = SignatureForm.model_validate(answer)
    with session_scope() as session:
        contract, provider, policy = load_for_update(session, Contract, contract_id)
        if contract.status not in (C.sent_for_signature, C.partially_signed):
            return contract.status
        provider_on = contract.provider_signed_on or form.provider_signed_on
        municipality_on = contract.municipality_signed_on or form.municipality_signed_on
        signatory = contract.municipality_signatory or form.municipality_signatory
        # What either status change stores: a date given once stays, a new one is added.
        signed = {
            "provider_signed_on": provider_on,
            "municipality_signed_on": municipality_on,
            "municipality_signatory": signatory,
        }
        details = {
            "provider_signed_on": provider_on.isoformat() if provider_on else None,
            "municipality_signed_on": municipality_on.isoformat() if municipality_on else None,
        }
        if provider_on is None or municipality_on is None:
            if contract.status is C.sent_for_signature:
                change_status(
                    session,
                    contract,
                    C.partially_signed,
                    actor=form.registered_by,
                    reason="en part har skrivit under",
                    details=details,
                    **signed,
                )
            return C.partially_signed

        # Both have signed: the contract applies (seed 002 §8.3). Without a given
        # start, operations start the first working day after the later signature.
        starts_on = form.starts_on or add_working_days(max(provider_on, municipality_on), 1)
        ends_on = add_months(starts_on, 12 * policy.contract.term_years) - timedelta(days=1)
        change_status(
            session,
            contract,
            C.active,
            actor=form.registered_by,
            reason="båda parter har skrivit under",
            details=details | {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
            **signed,
            starts_on=starts_on,
            ends_on=ends_on,
            # On the public list (seed 002 §1.6) and, where the policy has one, in the
            # no-choice rotation (ickeval, seed 000).
            publicly_listed=True,
            in_no_choice_rotation=policy.contract.no_choice_rotation,
        )
        fulfil_if_open(
            session,
            contract,
            ObligationKind.contract_signature,
            actor=form.registered_by,
            on=max(provider_on, municipality_on),
        )
        obligations = _start_obligations(session, contract, policy, starts_on, ends_on)
        follow_up = policy.contract.new_provider_follow_up_months
        CaseLetters(contract, contract.municipality_id, provider, policy).queue(
            session,
            "active",
            "contract-active",
            {
                "reason": f"ni har tecknat avtal om hemtjänst med {policy.municipality}",
                "starts_on": starts_on,
                "ends_on": ends_on,
                "obligations": obligations,
                "follow_up_on": add_months(starts_on, follow_up) if follow_up else None,
            },
        )
        logger.info("Contract %s is active", case_no(contract.id))
        return C.active


def _start_obligations(
    session: Session, contract: Contract, policy: Policy, starts_on: date, ends_on: date
) -> list[dict[str, Any]]:
    """The deadlines an active contract brings; returns the provider's, for the letter.

    Insurance and permit copies are due at the start of operations (seed 002
    §8.1, §3.1). An item approved already in step 1 is stored as fulfilled, so
    the record shows it and nobody chases it. The six-month follow-up of a new
    provider (seed 003) and the end of the term (reminder before it, seed 002
    §4.1) are the municipality's own deadlines.
    """
    step1: dict[str, Any] = {}
    if contract.application_id is not None:
        application = session.get(Application, contract.application_id)
        rounds = (application.checklist if application else {}).get("step1", [])
        if rounds:
            step1 = rounds[-1]["items"]
    for_provider: list[dict[str, Any]] = []
    rows: list[tuple[ObligationKind, date, str | None]] = [
        (ObligationKind.insurance_copy, starts_on, "insurance"),
        (ObligationKind.permit_copy, starts_on, "ivo_permit"),
        (ObligationKind.contract_end, ends_on, None),
    ]
    follow_up = policy.contract.new_provider_follow_up_months
    if follow_up:
        rows.append((ObligationKind.new_provider_follow_up, add_months(starts_on, follow_up), None))
    labels = {
        ObligationKind.insurance_copy: "Kopia på gällande ansvarsförsäkring",
        ObligationKind.permit_copy: "Kopia på tillstånd från IVO",
    }
    for kind, due, item in rows:
        already = item is not None and step1.get(item, {}).get("result") == Assessment.approved
        obligation = add_obligation(session, contract, kind, due)
        session.flush()
        if already:
            change_status(
                session,
                obligation,
                ObligationStatus.fulfilled,
                actor="system:flow",
                reason="godkänd i steg 1",
                fulfilled_on=starts_on,
            )
        elif kind in labels:
            for_provider.append({"what": labels[kind], "due_on": due})
    return for_provider
