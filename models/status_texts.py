"""What staff read about a case's status: in form headers, artifacts and reminders.

Beside the keys they describe (models/application.py, models/business_manager.py),
as models/lex_sarah.py keeps its STATUS_TEXT; the stores and the daily check's
reminders read the same text.
"""

from __future__ import annotations

from models.application import ApplicationStatus
from models.business_manager import ManagerStatus

#: What staff read about a case's status (form headers, reminders).
APPLICATION_STATUS_TEXT: dict[ApplicationStatus, str] = {
    ApplicationStatus.received: "registrerad",
    ApplicationStatus.step1_review: "steg 1: handlingar och behörighet",
    ApplicationStatus.completion_requested: "väntar på komplettering",
    ApplicationStatus.step2_review: "steg 2: möte och rutiner",
    ApplicationStatus.approved: "godkänd",
    ApplicationStatus.rejected: "avslagen",
    ApplicationStatus.withdrawn: "återkallad",
}


#: Swedish status text for staff (reminders, the run page).
MANAGER_STATUS_TEXT: dict[ManagerStatus, str] = {
    ManagerStatus.proposed: "Registrerad, väntar på prövning",
    ManagerStatus.under_review: "Under prövning",
    ManagerStatus.approved: "Godkänd",
    ManagerStatus.rejected: "Inte godkänd, avtalet går till hävning",
    ManagerStatus.replaced: "Ersatt",
}
