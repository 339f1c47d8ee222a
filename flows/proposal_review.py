"""Flow `proposal-review`: staff decide a proposal the daily sweep made (the system proposes).

The sweep starts one run per proposal (deployment "Pröva förslag", once per
proposal through an idempotency key) for: a contract without customers for 12
months (Salem: hävs, seed 002 §4.5, decided by the committee or its chair;
Stockholm: upphör, seed 003, staff confirm the facts), few customers after 24
months (Stockholm, seed 003: notice), and a term that ends within 6 months
(Salem §4.1: extend a year or let it end). The run waits in a form; the
decision is stored, audited and sent to the provider in one transaction. Staff
can also start the deployment by hand with the proposal's number.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.input import RunInput

from flows.case_runner import CaseType, Shown, Step, run_case, start_once
from flows.names import PROPOSAL_FLOW, REVIEW_PROPOSAL
from flows.parameter_check import take_case
from flows.parameters import reference
from models.clock import today
from models.forms.proposal import EndForm, FollowUpForm, NoticeForm, TermForm
from models.proposal import Proposal, ProposalKind, ProposalStatus
from models.sv_format import case_no, sv_date
from tasks.proposal_store import (
    ProposalView,
    apply_decision,
    close_if_moot,
    end_problems,
    follow_up_default,
    follow_up_problems,
    load_proposal,
    notice_problems,
    term_problems,
)


def describe(view: ProposalView) -> str:
    """The proposal above the form: facts only (numbers, dates), no names."""
    lines = [
        f"## {view.title}",
        "",
        f"Förslag **{view.case_no}**, avtal **{view.contract_no}**.",
        "",
    ]
    lines += [f"- {label}: {value}" for label, value in view.facts if label != "Avtalet löper ut"]
    if view.contract_ends_on is not None:
        lines.append(f"- Avtalet gäller till och med: {sv_date(view.contract_ends_on)}")
    lines.append("")
    if view.kind is ProposalKind.end_inactivity:
        if view.consequence == "havning":
            lines.append(
                "Enligt avtalet hävs det när utföraren saknar uppdrag i 12 månader. Hävning "
                "beslutas av nämnden eller dess ordförande: fyll i organ, datum och paragraf."
            )
        else:
            lines.append(
                "Enligt avtalet upphör det utan uppsägning när utföraren saknar kunder i 12 "
                "månader. Kontrollera kundantalen och bekräfta sista dagen."
            )
    elif view.kind is ProposalKind.end_manager_rejected:
        lines.append(
            "En ny verksamhetsansvarig godkändes inte; enligt avtalets villkor hävs det då "
            "(Salem: förfrågningsunderlaget §4.6). Hävning beslutas av nämnden eller dess "
            "ordförande: fyll i organ, datum och paragraf."
        )
    elif view.kind is ProposalKind.end_breach:
        lines.append(
            "Bristerna i varningen är inte åtgärdade, och enligt avtalet hävs det då. Hävning "
            "beslutas av nämnden eller dess ordförande: fyll i organ, datum och paragraf."
        )
    elif view.kind is ProposalKind.notice_low_volume:
        lines.append(
            f"Kommunens uppsägningstid är {view.notice_months} månader. Uppsägning beslutas av "
            "nämnden eller dess ordförande: fyll i organ, datum och paragraf."
        )
    elif view.kind is ProposalKind.lex_sarah_follow_up:
        lines.append(
            "Utföraren har ett allvarligt lex Sarah-ärende eller flera ärenden under perioden. "
            "Välj om avtalet ska följas upp (du får en skyldighet med påminnelser) eller avvisa "
            "förslaget med en motivering. Ärendets innehåll finns bara i lovflows databas."
        )
    else:
        lines.append(
            f"Välj om avtalet ska förlängas med {view.extension_years} år eller löpa ut. "
            "Utföraren får ett brev om beslutet."
        )
    return "\n".join(lines) + "\n"


_HOW_TO = (
    "\n---\n\nBesluta på körningens sida: tryck på **Resume** uppe till höger. Syns inte "
    "texten ovanför formuläret: zooma ut i webbläsaren (Ctrl och minus). Ett svar som inte "
    "kan sparas "
    "(t.ex. hävning utan beslutande organ och paragraf) frågas efter igen med skälet överst.\n"
)


@flow(name=PROPOSAL_FLOW, flow_run_name="förslag {proposal}", persist_result=True)
async def review_proposal(
    proposal: str = reference("Förslag", "Förslagets nummer, till exempel 7C5234E5."),
) -> str:
    """Ask staff to decide the proposal `proposal` (its 8-character number or id).

    A number that matches no proposal is asked for again (flows/parameter_check.py).
    """
    logger = get_run_logger()
    view = await take_case(load_proposal, "inget förslag", proposal=proposal)
    if view.status is not ProposalStatus.open:
        logger.info("Proposal %s was decided already (%s)", view.case_no, view.status.value)
        return view.status.value
    if close_if_moot(view.id, today()):
        logger.info("Proposal %s closed: its contract is no longer active", view.case_no)
        return ProposalStatus.dismissed.value
    return await run_case(PROPOSAL, view.id)


async def start_review(proposal_id: uuid.UUID) -> uuid.UUID | None:
    """Start "Pröva förslag" for `proposal_id` now, once (the server keeps the key).

    If the server cannot start it now, the daily check does, with the same key
    (its kind is one of the reviewed kinds, tasks/proposals.py). Returns the run.
    """
    return await start_once(
        PROPOSAL_FLOW,
        REVIEW_PROPOSAL,
        parameters={"proposal": case_no(proposal_id)},
        key=f"proposal-review:{proposal_id}",
        retried_by="the daily check",
    )


async def _decided(view: ProposalView, answer: Any, status: str) -> None:
    """The decision on the run page: what was chosen, and whether the provider got a letter."""
    get_run_logger().info("Proposal %s is %s", view.case_no, status)
    await acreate_markdown_artifact(
        key=f"forslag-{view.case_no.lower()}",
        markdown=f"## {view.title}\n\nFörslag **{view.case_no}**: beslutat "
        f"{sv_date(today())}: **{answer.outcome.value}**. "
        + (
            "Utföraren har fått brev om beslutet.\n"
            if status == ProposalStatus.accepted.value
            else "Förslaget avvisades; utföraren får inget brev.\n"
        ),
        description=f"Förslag {view.case_no}: beslut (inga namn).",
    )


_ENDS = (ProposalKind.end_inactivity, ProposalKind.end_manager_rejected, ProposalKind.end_breach)
_OTHERS = (*_ENDS, ProposalKind.notice_low_volume, ProposalKind.lex_sarah_follow_up)


def _decision(
    waits: Callable[[ProposalView], bool],
    form: type[RunInput],
    check: Callable[[ProposalView, Any], list[str]],
    defaults: Callable[[ProposalView], dict[str, Any]] | None = None,
) -> Step[ProposalView]:
    """The one form of an open proposal (key "beslut"), its decision stored and shown."""
    return Step(
        waits=lambda view: view.status is ProposalStatus.open and waits(view),
        key="beslut",
        form=form,
        title="",
        label="Beslut",
        instructions="",
        check=check,
        store=lambda view, answer: apply_decision(view.id, answer.model_dump(mode="json"), today()),
        defaults=defaults or {},
        then=_decided,
    )


async def _status(view: ProposalView) -> str:
    return view.status.value


#: One decision per proposal; its form follows the proposal's kind. The form's
#: description is squeezed away in short browser windows (README, "UI rough
#: edges"): the same text, with how to answer, is on the run's Artifacts tab.
PROPOSAL: CaseType[ProposalView] = CaseType(
    noun="förslag",
    entity=Proposal.ENTITY_TYPE,
    load=lambda proposal_id: load_proposal(str(proposal_id)),
    rename=False,
    steps=(
        _decision(
            lambda view: view.kind in _ENDS,
            EndForm,
            end_problems,
            lambda view: {"last_day": today(), "meeting_on": today()},
        ),
        _decision(
            lambda view: view.kind is ProposalKind.notice_low_volume,
            NoticeForm,
            notice_problems,
            lambda view: {"given_on": today(), "meeting_on": today()},
        ),
        _decision(
            lambda view: view.kind is ProposalKind.lex_sarah_follow_up,
            FollowUpForm,
            follow_up_problems,
            lambda view: {"follow_up_by": follow_up_default(view, today())},
        ),
        _decision(lambda view: view.kind not in _OTHERS, TermForm, term_problems),
    ),
    describe=lambda view, title, instructions: describe(view),
    show=lambda view: Shown(
        key=f"forslag-{view.case_no.lower()}",
        description=f"Förslag {view.case_no}: fakta och vad som krävs (inga namn).",
        footer=_HOW_TO,
    ),
    finish=_status,
)
