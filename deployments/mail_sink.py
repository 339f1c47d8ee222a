"""A local SMTP server for `make run`: every message it receives becomes an .eml file.

Nothing leaves the machine. Open the files in a mail client (or read them as
text) to see exactly what a provider would get. Each file is written to a
temporary name and renamed, so a reader never sees half a message.

    python -m deployments.mail_sink [--host 127.0.0.1] [--port 8025] [--dir var/mail]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from models.settings import get_settings

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


def eml_filename(message_id: str | None, now: datetime | None = None) -> str:
    """ "<UTC timestamp>-<Message-ID made safe for a file name>.eml".

    The timestamp first makes `ls` list the mail in arrival order.
    """
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    safe = _UNSAFE.sub("_", (message_id or "").strip("<> \t\r\n")).strip("._-")[:120]
    return f"{stamp}-{safe or uuid.uuid4().hex}.eml"


def write_atomically(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to directory/name via a temporary file and a rename."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".incoming-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        target = directory / name
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


class MailDirHandler:
    """aiosmtpd handler that stores each message's raw bytes as an .eml file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        message_id = headers.get("Message-ID")
        name = eml_filename(str(message_id) if message_id is not None else None)
        try:
            path = write_atomically(self.directory, name, raw)
        except OSError as exc:
            logger.error("Could not store incoming message: %s", exc)
            # 451: the client keeps the message and tries again later.
            return "451 4.3.0 Could not store message"
        logger.info("Stored message as %s", path.name)
        return "250 Message accepted for delivery"


def start_mail_sink(
    host: str = "127.0.0.1", port: int = 8025, directory: Path | None = None
) -> Controller:
    """Start the sink in a background thread and return its (running) controller."""
    target = directory if directory is not None else get_settings().effective_mail_dir
    target.mkdir(parents=True, exist_ok=True)
    controller = Controller(MailDirHandler(target), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SMTP server that stores mail as .eml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=None, help="default: LOVFLOW var/mail")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # aiosmtpd logs every connection at INFO, including its own start-up probe.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    directory = args.dir if args.dir is not None else get_settings().effective_mail_dir
    controller = start_mail_sink(args.host, args.port, directory)
    print(f"Mail sink listening on {args.host}:{args.port}", flush=True)
    print(f"Messages are stored in {directory.resolve()}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        print("Mail sink stopped.")


if __name__ == "__main__":
    main()
