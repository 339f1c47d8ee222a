"""Settings: defaults, normalisation, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.settings import SettingsError, load_settings, mask_url


def test_defaults_use_sqlite_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOVFLOW_VAR_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'lovflow.db'}"
    assert settings.effective_mail_dir == tmp_path / "mail"
    assert settings.timezone == "Europe/Stockholm"
    assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 8025)


def test_postgres_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOVFLOW_DATABASE_URL", "postgres://lov@db.kommun.example:5432/lovflow")
    assert load_settings().effective_database_url == (
        "postgresql+psycopg://lov@db.kommun.example:5432/lovflow"
    )


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("LOVFLOW_SMTP_PORT", "70000", "less than or equal to 65535"),
        ("LOVFLOW_SMTP_PORT", "smtp", "valid integer"),
        ("LOVFLOW_DATABASE_URL", "mysql://x/y", "sqlite:/// or postgresql://"),
        ("LOVFLOW_TIMEZONE", "Europe/Stokholm", "unknown time zone"),
        ("LOVFLOW_MAIL_SENDER", "upphandling-at-kommun", "not a valid e-mail address"),
        ("LOVFLOW_SMTP_STARTTLS", "kanske", "valid boolean"),
        ("LOVFLOW_SERVE_LIMIT", "0", "greater than or equal to 1"),
        ("LOVFLOW_POLICY", "../etc/passwd", "policy file name"),
        ("LOVFLOW_POLICY", "upsala", "no policy 'upsala' in policies/ (known: huddinge, salem"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, rule: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert f"{variable}:" in message
    assert rule in message


def test_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOVFLOW_SMTP_PASSWORD", "hemligt-losen-42")
    settings = load_settings()
    assert "hemligt-losen-42" not in repr(settings)
    assert "hemligt-losen-42" not in str(settings.model_dump())
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "hemligt-losen-42"


def test_every_prefect_default_is_a_prefect_setting(tmp_path: Path) -> None:
    """Prefect ignores an environment variable it does not know: a misspelt default
    would silently do nothing. prefect.settings.<NAME> exists for each known name."""
    import prefect.settings

    from deployments.environment import prefect_defaults
    from models.settings import Settings

    unknown = [
        name
        for name in prefect_defaults(Settings(var_dir=tmp_path))
        if not hasattr(prefect.settings, name)
    ]
    assert not unknown
    assert not hasattr(prefect.settings, "PREFECT_SERVER_SERVICES_NO_SUCH_SETTING")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        # Parses as a URL, but the wrong database.
        ("mysql://lov:hemligt-losen-42@db.kommun.example/lovflow", "sqlite:/// or postgresql://"),
        # An unescaped "@" in the password.
        ("mssql://lov:hemligt@losen-42@db.kommun.example/lovflow", "sqlite:/// or postgresql://"),
        # No scheme at all, and a scheme with one slash.
        ("lov:hemligt-losen-42@db.kommun.example/lovflow", "sqlite:/// or postgresql://"),
        ("postgresql:/lov:hemligt-losen-42@db.kommun.example/lovflow", "sqlite:/// or"),
        # The right database, but SQLAlchemy cannot read it (the port is not a number).
        ("postgresql://lov:hemligt-losen-42@db.kommun.example:port/lovflow", "not a URL"),
    ],
)
def test_invalid_database_url_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, value: str, rule: str
) -> None:
    monkeypatch.setenv("LOVFLOW_DATABASE_URL", value)
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert "LOVFLOW_DATABASE_URL:" in message
    assert rule in message
    assert "losen-42" not in message and "hemligt" not in message
    assert "db.kommun.example" in message  # the rest is shown, to find the typo


def test_database_password_is_not_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOVFLOW_DATABASE_URL", "postgresql://lov:hemligt-losen-42@db/lovflow")
    assert "hemligt-losen-42" not in repr(load_settings())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://lov:hemligt@db:5432/lovflow",
            "postgresql+psycopg://lov:***@db:5432/lovflow",
        ),
        ("postgresql://lov:p@ss@db/lovflow", "postgresql://lov:***@db/lovflow"),
        ("inte en url", "inte en url"),
        ("sqlite:////srv/lovflow/var/lovflow.db", "sqlite:////srv/lovflow/var/lovflow.db"),
        ("postgresql://lov@db/lovflow", "postgresql://lov@db/lovflow"),
    ],
)
def test_mask_url_hides_only_the_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown
