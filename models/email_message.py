"""The MIME message of an outbox row: headers, text, then HTML, then attachments.

Pure: the row holds everything (rendered when it was queued), so building the
same row twice gives the same message, and a resend is identical.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import format_datetime

from models.outbox import OutgoingEmail


def split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    """("text", "calendar", {"method": "REQUEST"}) from "text/calendar; method=REQUEST"."""
    main, *param_parts = (part.strip() for part in content_type.split(";"))
    maintype, _, subtype = main.partition("/")
    if not maintype or not subtype or " " in main:
        raise ValueError(f"not a MIME type: {content_type!r}")
    params: dict[str, str] = {}
    for part in param_parts:
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"bad parameter in MIME type: {content_type!r}")
        params[name.strip()] = value.strip().strip('"')
    return maintype.lower(), subtype.lower(), params


def build_message(row: OutgoingEmail) -> EmailMessage:
    """The MIME message for an outbox row: text, then HTML, then attachments.

    Plain text comes first because mail clients show the last alternative they
    can render. Bodies are quoted-printable: 7-bit safe through any relay, and
    Swedish letters stay readable in the raw source. The Date is the time the
    letter was queued (when it was written), which also makes a resend identical.
    """
    message = EmailMessage()
    message["From"] = row.sender
    message["To"] = ", ".join(row.recipients)
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.queued_at)
    message["Message-ID"] = row.message_id
    # RFC 3834: tells autoresponders (out-of-office) not to answer a robot.
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "sv"
    message.set_content(row.body_text, charset="utf-8", cte="quoted-printable")
    if row.body_html is not None:
        message.add_alternative(
            row.body_html, subtype="html", charset="utf-8", cte="quoted-printable"
        )
    for item in row.attachments:
        maintype, subtype, params = split_content_type(item["content_type"])
        message.add_attachment(
            base64.b64decode(item["data_b64"], validate=True),
            maintype=maintype,
            subtype=subtype,
            filename=item["filename"],
            params=params,
        )
    return message
