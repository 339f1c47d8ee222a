"""Imports every table so that SQLModel.metadata is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from models.application import Application
from models.audit import AuditEvent
from models.business_manager import BusinessManager
from models.contract import Contract
from models.contract_ending import ContractEnding
from models.customer_count import CustomerCount
from models.lex_sarah import LexSarahCase
from models.monthly_report import MonthlyReport
from models.municipality import Municipality
from models.obligation import Obligation
from models.outbox import OutgoingEmail
from models.proposal import Proposal
from models.provider import Provider
from models.warning import ContractWarning

metadata = SQLModel.metadata

__all__ = [
    "Application",
    "AuditEvent",
    "BusinessManager",
    "Contract",
    "ContractEnding",
    "ContractWarning",
    "CustomerCount",
    "LexSarahCase",
    "MonthlyReport",
    "Municipality",
    "Obligation",
    "OutgoingEmail",
    "Proposal",
    "Provider",
    "metadata",
]
