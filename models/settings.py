"""Application settings, read from LOVFLOW_* environment variables (or a .env file).

A wrong value stops the program at start with a message that names the variable,
so an operator never has to read a pydantic traceback to find a typo.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, computed_field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models.paths import PROJECT_ROOT
from models.policy import list_policies
from models.validation import normalise_email

ENV_PREFIX = "LOVFLOW_"

#: "scheme://user:password@" anywhere in a text, the password up to the last "@" of
#: the word (a password with an unescaped "@" in it is still hidden whole).
_URL_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*):[^\s]*@")
#: "user:password@host" at the start of a value that is not a URL (no "//", a typo).
_BARE_USERINFO = re.compile(r"^(?P<head>[^\s:/@]*):[^\s]*@")
_HIDDEN = "***"


def mask_secrets(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***, for errors and logs."""
    return _URL_USERINFO.sub(rf"\g<head>:{_HIDDEN}@", text)


def mask_url(value: str) -> str:
    """A database URL fit to show: its password replaced by *** (SQLAlchemy's own rendering).

    A text that SQLAlchemy cannot parse is masked by pattern instead, and so is what
    SQLAlchemy renders, in case an unescaped "@" split the password.
    """
    try:
        return mask_secrets(make_url(value).render_as_string(hide_password=True))
    except (ArgumentError, ValueError):  # not a URL, or a port that is not a number
        return _BARE_USERINFO.sub(rf"\g<head>:{_HIDDEN}@", mask_secrets(value))


def normalise_database_url(value: str) -> str:
    """Accept sqlite:/// and postgresql:// URLs; PostgreSQL uses the psycopg (v3) driver."""
    value = value.strip()
    if not value:
        return value
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            value = "postgresql+psycopg://" + value[len(prefix) :]
            break
    if not value.startswith(("sqlite:", "postgresql+")):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    try:
        make_url(value)
    except (ArgumentError, ValueError):
        # Neither error's text is shown: SQLAlchemy's repeats the whole URL.
        raise ValueError(
            "is not a URL SQLAlchemy can read (sqlite:///path or "
            "postgresql://user:password@host:port/database)"
        ) from None
    return value


class SettingsError(ValueError):
    """A LOVFLOW_* variable has a value we cannot use."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        validate_default=True,
    )

    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Folder for the local SQLite databases, stored mail and Prefect home.",
    )
    database_url: str = Field(
        default="",
        repr=False,  # it may hold a password; mask_url shows it
        description=(
            "SQLAlchemy URL of the app database. Empty means SQLite at var/lovflow.db. "
            "postgresql://user@host/db is accepted and uses the psycopg driver."
        ),
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host name.")
    smtp_port: int = Field(default=8025, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str | None = Field(
        default=None, description="SMTP user, if the relay needs login."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (never logged)."
    )
    smtp_password_block: str | None = Field(
        default=None,
        description=(
            "Name of a Prefect Secret block holding the SMTP password, read when "
            "delivery connects; used when LOVFLOW_SMTP_PASSWORD is not set."
        ),
    )
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="SMTP network timeout.")
    smtp_connect_attempts: int = Field(
        default=3, ge=1, le=20, description="Connection attempts per delivery run before giving up."
    )
    smtp_backoff_seconds: float = Field(
        default=1.0, ge=0, description="First wait between connection attempts; doubles each time."
    )
    mail_sender: str = Field(
        default="lovflow@kommun.example",
        description="Fallback From address; each municipality's policy normally sets its own.",
    )
    mail_dir: Path | None = Field(
        default=None, description="Where the local SMTP sink stores .eml files (default var/mail)."
    )
    prefect_port: int = Field(
        default=4200, ge=1, le=65535, description="Port of the embedded Prefect server and UI."
    )
    staff_port: int = Field(
        default=4300, ge=1, le=65535, description="Port of the staff worklist (Att göra)."
    )
    policy: str = Field(
        default="huddinge",
        description="Name of the municipality policy in policies/ used by default.",
    )
    timezone: str = Field(
        default="Europe/Stockholm", description="Time zone for dates and schedules."
    )
    outbox_batch_size: int = Field(
        default=200, ge=1, le=10_000, description="Messages per SMTP batch."
    )
    outbox_lease_seconds: int = Field(
        default=600,
        ge=10,
        description="A message claimed by a delivery that died is claimed again after this long.",
    )
    outbox_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a message is marked failed for staff to see."
    )
    serve_limit: int = Field(
        default=4,
        ge=1,
        le=100,
        description=(
            "Flow runs `make run` runs at once; more wait as Scheduled and start as one "
            "ends. A waiting case holds no process, so this counts runs at work. Default 4: "
            "each run starts as a fork in a fraction of a second "
            "(deployments/flow_run_processes.py), so 20 cases registered at once would "
            "otherwise all talk to the Prefect server's SQLite together, which then answers "
            "503 and runs out of connections (seen in the suite on the 2-core machine)."
        ),
    )
    zombie_after_seconds: int = Field(
        default=90,
        ge=40,
        le=86_400,
        description=(
            "A Running run that has sent no heartbeat for this long is marked Crashed by "
            "the zombie watch (deployments/zombie_watch.py). Runs send one every "
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (30 here), so keep this above that."
        ),
    )
    zombie_check_seconds: int = Field(
        default=15,
        ge=1,
        le=3_600,
        description="How often the zombie watch asks the Prefect API for silent Running runs.",
    )

    _normalise_database_url = field_validator("database_url")(normalise_database_url)
    _check_sender = field_validator("mail_sender")(normalise_email)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("policy")
    @classmethod
    def _check_policy_name(cls, value: str) -> str:
        value = value.strip().lower()
        if not value.isidentifier():
            raise ValueError("must be a policy file name such as 'huddinge' or 'salem'")
        known = list_policies()
        if value not in known:
            raise ValueError(
                f"no policy {value!r} in policies/ (known: {', '.join(known) or 'none'})"
            )
        return value

    @computed_field(repr=False)  # type: ignore[prop-decorator]
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'lovflow.db'}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_mail_dir(self) -> Path:
        return self.mail_dir or self.var_dir / "mail"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


#: Fields whose value is never shown, not even masked.
_SECRET_FIELDS = frozenset(
    name for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
)


def _shown_input(field: str, value: Any) -> str:
    if field in _SECRET_FIELDS or field == "?":  # "?": the whole input, secrets and all
        return ""
    if field == "database_url" and isinstance(value, str):
        return f" (got {mask_url(value)!r})"
    return f" (got {mask_secrets(repr(value))})"


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "?"
        shown = _shown_input(field, item.get("input"))
        lines.append(f"{ENV_PREFIX}{field.upper()}: {mask_secrets(item['msg'])}{shown}")
    return "Invalid lovflow settings:\n  " + "\n  ".join(lines)


def load_settings() -> Settings:
    """Read settings from the environment, or raise SettingsError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. Tests change env vars and call get_settings.cache_clear()."""
    return load_settings()
