"""A calendar invitation (.ics, RFC 5545) for the step-2 meeting with an applicant.

The event carries its time zone (Europe/Stockholm, with a VTIMEZONE block), so a
calendar shows 09:30 as 09:30 in Sweden whatever the reader's own zone and on
either side of a daylight-saving change. The UID is stable per application and
booking, so a resent invitation updates the same calendar entry instead of
adding a second one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vText

from models.base import utcnow

PRODID = "-//lovflow//Ansökan LOV//SV"


def meeting_invitation(
    *,
    application_id: uuid.UUID,
    booking: int,
    starts: datetime,
    duration: timedelta,
    place: str,
    summary: str,
    description: str,
    organizer: str,
    attendee: str,
) -> bytes:
    """The .ics file for one meeting booking; `starts` must be time-zone aware."""
    if starts.tzinfo is None:
        raise ValueError("meeting start must carry its time zone")
    event = Event()
    event.add("uid", f"{application_id}-meeting-{booking}@lovflow")
    event.add("dtstamp", utcnow())
    event.add("dtstart", starts)
    event.add("dtend", starts + duration)
    event.add("summary", summary)
    event.add("location", place)
    event.add("description", description)
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    organizer_address = vCalAddress(f"mailto:{organizer}")
    event["organizer"] = organizer_address
    attendee_address = vCalAddress(f"mailto:{attendee}")
    attendee_address.params["ROLE"] = vText("REQ-PARTICIPANT")
    attendee_address.params["RSVP"] = vText("TRUE")
    event.add("attendee", attendee_address, encode=False)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    calendar.add("calscale", "GREGORIAN")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data
