"""Step 2 of vetting in the database: the meeting booked (with its invitation), the routines.

One transaction each, idempotent against the stored checklist, like the rest of
vetting (tasks/vetting_store.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from models.application import ApplicationStatus
from models.audit import audit
from models.calendar_invite import meeting_invitation
from models.db import session_scope
from models.email_queue import Attachment
from models.forms.vetting import ROUTINE, MeetingForm
from models.sv_format import case_no
from models.vetting import STEP2_ITEMS, iso_date
from models.vetting_steps import recorded_before
from tasks.vetting_store import load_checklist, to_applicant

logger = logging.getLogger(__name__)

S = ApplicationStatus


@task(name="book-meeting", cache_policy=NO_CACHE, persist_result=False)
def book_meeting(application_id: uuid.UUID, answer: dict[str, Any], starts: datetime) -> None:
    """Store the step-2 meeting and queue the invitation with its .ics file."""
    form = MeetingForm.model_validate(answer)
    with session_scope() as session:
        application, provider, policy, checklist = load_checklist(session, application_id)
        if recorded_before(
            "meeting" in checklist, application, S.step2_review, "a meeting cannot be booked"
        ):
            return
        duration = timedelta(minutes=form.duration_minutes)
        checklist["meeting"] = {
            "booking": 1,
            "starts": starts.isoformat(),
            "duration_minutes": form.duration_minutes,
            "place": form.place,
            "booked_by": form.booked_by,
        }
        application.checklist = checklist
        session.add(application)
        audit(
            session,
            application,
            "meeting_booked",
            actor=form.booked_by,
            details={"starts": starts.isoformat(), "duration_minutes": form.duration_minutes},
        )
        number = case_no(application.id)
        ics = meeting_invitation(
            application_id=application.id,
            booking=1,
            starts=starts,
            duration=duration,
            place=form.place,
            summary=f"{policy.municipality}: möte om ansökan {number} (LOV)",
            description=(
                f"Steg 2 i prövningen av ansökan {number}: ni presenterar ert ledningssystem "
                "för systematiskt kvalitetsarbete (SOSFS 2011:9) och era rutiner."
            ),
            organizer=policy.mail.sender,
            attendee=provider.email,
        )
        to_applicant(
            session,
            application,
            provider,
            policy,
            message="meeting-invitation:1",
            template="meeting-invitation",
            context={
                "meeting_start": starts,
                "meeting_end": starts + duration,
                "place": form.place,
                "routines": [item.label for item in STEP2_ITEMS[1:]],
            },
            attachments=[
                Attachment(
                    filename=f"mote-{number}.ics",
                    content_type="text/calendar; method=REQUEST; charset=utf-8",
                    data=ics,
                )
            ],
        )


@task(name="record-step2", cache_policy=NO_CACHE, persist_result=False)
def record_step2(application_id: uuid.UUID, answer: dict[str, Any]) -> None:
    with session_scope() as session:
        application, _, _, checklist = load_checklist(session, application_id)
        if recorded_before(
            "step2" in checklist, application, S.step2_review, "step 2 cannot be recorded"
        ):
            return
        items = {
            item.key: {
                "result": ROUTINE.key(answer[item.key]["result"]).value,
                "note": answer[item.key]["note"],
            }
            for item in STEP2_ITEMS
        }
        checklist["step2"] = {
            "decided_by": answer["decided_by"],
            "decided_on": iso_date(answer["decided_on"]),
            "items": items,
        }
        application.checklist = checklist
        session.add(application)
        audit(
            session,
            application,
            "step2_recorded",
            actor=answer["decided_by"],
            details={"results": {key: value["result"] for key, value in items.items()}},
        )
