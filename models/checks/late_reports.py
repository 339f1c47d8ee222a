"""Repeatedly late deviation reports: a proposal to staff to consider a warning.

Policy `[deviation_report]`: `late_reports_for_warning` late reports (default
3) received within `late_window_months` (default 12) produce a proposal; the
seeds set no number, so the default is local practice (models/policy/).
The proposal is a task for the warnings flow, not a warning by itself: staff
decide (seed 002 §7.2, "varning utdelas").

One query per municipality (its window comes from its policy), however many
contracts. The proposal's ground is the latest late month, so each further
late report while the count stays over the limit raises the question again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.calendar import add_months, month_name
from models.contract import Contract, ContractStatus
from models.monthly_report import MonthlyReport
from models.municipality import Municipality
from models.policy import load_policy
from models.proposal import Ground, ProposalKind


def check(session: Session, as_of: date) -> list[Ground]:
    grounds = []
    for municipality in session.exec(select(Municipality)).all():
        rule = load_policy(municipality.policy_name).deviation_report
        since = add_months(as_of, -rule.late_window_months)
        rows = session.exec(
            select(
                col(MonthlyReport.contract_id),
                col(MonthlyReport.provider_id),
                func.count(),
                func.max(col(MonthlyReport.period)),
            )
            .join(Contract, col(Contract.id) == col(MonthlyReport.contract_id))
            .where(
                MonthlyReport.municipality_id == municipality.id,
                col(MonthlyReport.late_working_days) > 0,
                col(MonthlyReport.received_on) > since,
                col(MonthlyReport.received_on) <= as_of,
                Contract.status == ContractStatus.active,
            )
            .group_by(col(MonthlyReport.contract_id), col(MonthlyReport.provider_id))
            .having(func.count() >= rule.late_reports_for_warning)
        ).all()
        for contract_id, provider_id, late, latest in rows:
            grounds.append(
                Ground(
                    kind=ProposalKind.warning_late_reports,
                    contract_id=contract_id,
                    provider_id=provider_id,
                    municipality_id=municipality.id,
                    ground=latest,
                    details={
                        "late_reports": late,
                        "window_months": rule.late_window_months,
                        "latest_late_period": month_name(latest),
                    },
                )
            )
    return grounds
