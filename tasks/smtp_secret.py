"""The SMTP password: from settings, or from a Prefect Secret block named in settings.

`LOVFLOW_SMTP_PASSWORD` wins when set. Otherwise `LOVFLOW_SMTP_PASSWORD_BLOCK`
names a Secret block (created in the UI under Blocks, or with
`Secret(value=...).save(name)`), read through the Prefect API when delivery
connects, so the password lives in Prefect's database and in no file or
environment on the worker machines. The value is returned to the SMTP login
only: never logged, never a parameter, never in an artifact.
"""

from __future__ import annotations

from prefect.blocks.system import Secret

from models.settings import Settings


class SmtpPasswordError(RuntimeError):
    """The Secret block named by LOVFLOW_SMTP_PASSWORD_BLOCK cannot be read."""


async def smtp_password(settings: Settings) -> str:
    """The password for the SMTP login ("" if none is configured)."""
    if settings.smtp_password is not None:
        return settings.smtp_password.get_secret_value()
    if not settings.smtp_password_block:
        return ""
    try:
        block: Secret[str] = await Secret.aload(settings.smtp_password_block)
    except (ValueError, RuntimeError) as exc:
        # Prefect raises ValueError for a missing block; the message names only the block.
        raise SmtpPasswordError(
            f"LOVFLOW_SMTP_PASSWORD_BLOCK: cannot read Secret block "
            f"{settings.smtp_password_block!r} ({type(exc).__name__})"
        ) from None
    return str(block.get())
