"""Pytest plugin: a real SMTP server (aiosmtpd) that records what it receives.

Tests deliver through aiosmtplib to this server and assert on the parsed
messages, as aiosmtplib's own test-suite does; nothing on the SMTP path is
mocked. The server can be stopped and started again on the same port to play
an outage, and told to refuse chosen recipients with a given SMTP reply.

Loaded from tests/conftest.py with `pytest_plugins = ["tests.smtp_fixtures"]`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from models.settings import Settings, get_settings

__all__ = [
    "HoldingHandler",
    "HoldingSmtp",
    "ReceivedMessage",
    "RecordingHandler",
    "SmtpServer",
    "smtp_server",
    "smtp_settings",
]


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server got it: the parsed message and its envelope."""

    message: EmailMessage
    mail_from: str
    recipients: list[str]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class RecordingHandler:
    """aiosmtpd handler that keeps every message and can refuse chosen recipients."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMessage] = []
        #: address (lower case) -> SMTP reply sent to RCPT TO, e.g. "550 5.1.1 No such user".
        self.refusals: dict[str, str] = {}
        self._changed = threading.Condition()

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.refusals.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        received = ReceivedMessage(
            message=message,
            mail_from=str(envelope.mail_from),
            recipients=list(envelope.rcpt_tos),
        )
        with self._changed:
            self.messages.append(received)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> list[ReceivedMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} messages within {timeout}s, got {len(self.messages)}"
                    )
                self._changed.wait(left)
            return list(self.messages)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpServer:
    """A running aiosmtpd server on `host:port` with a RecordingHandler.

    `stop()` and `start()` play an outage: connections are refused in between,
    and the same port (and the same list of received messages) is used after.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            return
        # A Controller closes its event loop when stopped, so each start needs a new one.
        controller = Controller(self.handler, hostname=self.host, port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer RCPT TO:<address> with `reply` (a 4xx or 5xx line) from now on."""
        self.handler.refusals[address.lower()] = reply

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMessage]:
        """Wait until at least `count` messages have arrived; return all of them."""
        return self.handler.wait_for(count, timeout)


class HoldingHandler(RecordingHandler):
    """Records messages; holds the DATA of chosen recipients until released, then refuses it.

    A relay that is slow to answer keeps the sending run Running, so a test can kill
    its machine mid-send. A held message is never accepted (451 after release): the
    client is gone by then, as after a real crash.
    """

    def __init__(self) -> None:
        super().__init__()
        self.held: set[str] = set()
        self.waiting = 0
        self.released = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.held & {r.lower() for r in envelope.rcpt_tos}:
            self.waiting += 1
            while not self.released.is_set():
                await asyncio.sleep(0.2)
            return "451 4.3.0 Try again later"
        reply: str = await super().handle_DATA(server, session, envelope)
        return reply


class HoldingSmtp(SmtpServer):
    def __init__(self) -> None:
        super().__init__()
        self.handler = HoldingHandler()

    @property
    def holder(self) -> HoldingHandler:
        assert isinstance(self.handler, HoldingHandler)
        return self.handler

    def hold(self, address: str) -> None:
        self.holder.held.add(address.lower())
        self.holder.released.clear()

    def holding(self) -> bool:
        return self.holder.waiting > 0

    def release(self) -> None:
        self.holder.held.clear()
        self.holder.released.set()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 and a free port, recording what it receives."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_settings(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings that point SMTP at `smtp_server`, with short back-offs for tests."""
    monkeypatch.setenv("LOVFLOW_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("LOVFLOW_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("LOVFLOW_SMTP_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("LOVFLOW_SMTP_TIMEOUT_SECONDS", "10")
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        get_settings.cache_clear()
