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

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows.human_step import ask
from flows.names import PROPOSAL_FLOW
from flows.run_helpers import deliver_now, used_pause_keys
from models.clock import today
from models.forms.proposal import EndForm, FollowUpForm, NoticeForm, TermForm
from models.proposal import ProposalKind, ProposalStatus
from models.sv_format import sv_date
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
async def review_proposal(proposal: str) -> str:
    """Ask staff to decide the proposal `proposal` (its 8-character number or id)."""
    logger = get_run_logger()
    view = load_proposal(proposal)
    if view.status is not ProposalStatus.open:
        logger.info("Proposal %s was decided already (%s)", view.case_no, view.status.value)
        return view.status.value
    day = today()
    if close_if_moot(view.id, day):
        logger.info("Proposal %s closed: its contract is no longer active", view.case_no)
        return ProposalStatus.dismissed.value
    text = describe(view)
    if "beslut" not in used_pause_keys():
        # The form's description is squeezed away in short browser windows (README,
        # "UI rough edges"): the same text is on the run's Artifacts tab.
        await acreate_markdown_artifact(
            key=f"forslag-{view.case_no.lower()}",
            markdown=text + _HOW_TO,
            description=f"Förslag {view.case_no}: fakta och vad som krävs (inga namn).",
        )
    answer: EndForm | NoticeForm | TermForm | FollowUpForm
    if view.kind in (
        ProposalKind.end_inactivity,
        ProposalKind.end_manager_rejected,
        ProposalKind.end_breach,
    ):
        answer = await ask(
            EndForm,
            key="beslut",
            description=text,
            check=lambda a: end_problems(view, a),
            defaults={"last_day": day, "meeting_on": day},
        )
    elif view.kind is ProposalKind.notice_low_volume:
        answer = await ask(
            NoticeForm,
            key="beslut",
            description=text,
            check=lambda a: notice_problems(view, a),
            defaults={"given_on": day, "meeting_on": day},
        )
    elif view.kind is ProposalKind.lex_sarah_follow_up:
        answer = await ask(
            FollowUpForm,
            key="beslut",
            description=text,
            check=lambda a: follow_up_problems(view, a),
            defaults={"follow_up_by": follow_up_default(view, day)},
        )
    else:
        answer = await ask(
            TermForm, key="beslut", description=text, check=lambda a: term_problems(view, a)
        )
    status = apply_decision(view.id, answer.model_dump(mode="json"), day)
    logger.info("Proposal %s is %s", view.case_no, status)
    await acreate_markdown_artifact(
        key=f"forslag-{view.case_no.lower()}",
        markdown=f"## {view.title}\n\nFörslag **{view.case_no}**: beslutat "
        f"{sv_date(day)}: **{answer.outcome.value}**. "
        + (
            "Utföraren har fått brev om beslutet.\n"
            if status == ProposalStatus.accepted.value
            else "Förslaget avvisades; utföraren får inget brev.\n"
        ),
        description=f"Förslag {view.case_no}: beslut (inga namn).",
    )
    await deliver_now()
    return status
