"""Loading policies/<name>.toml: validated, cached, with errors that name the key."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from models.paths import PROJECT_ROOT
from models.policy.municipality import Policy

POLICY_DIR = PROJECT_ROOT / "policies"


class PolicyError(ValueError):
    """A policy is unknown, or its file is not valid TOML or breaks a rule."""


def list_policies(directory: Path | None = None) -> list[str]:
    """Names of the policies in `directory` (default policies/), sorted."""
    folder = POLICY_DIR if directory is None else directory
    return sorted(path.stem for path in folder.glob("*.toml"))


def load_policy(name: str, *, directory: Path | None = None) -> Policy:
    """Load and validate policies/<name>.toml (or <directory>/<name>.toml); cached.

    Raises PolicyError for an unknown name (listing the available ones), a file
    that is not TOML, or a value that breaks a rule (naming the key path).
    """
    if directory is None:
        # The daily sweep asks for a policy per row: skip resolving the folder
        # (a filesystem call) when the default folder's policy is cached already.
        cached = _DEFAULT_FOLDER_CACHE.get(name)
        if cached is not None:
            return cached
    folder = (POLICY_DIR if directory is None else directory).resolve()
    policy = _load_policy(name.strip().lower(), folder)
    if directory is None:
        _DEFAULT_FOLDER_CACHE[name] = policy
    return policy


_DEFAULT_FOLDER_CACHE: dict[str, Policy] = {}


def clear_policy_cache() -> None:
    """Forget loaded policies, e.g. after a test or an operator edits a file."""
    _DEFAULT_FOLDER_CACHE.clear()
    _load_policy.cache_clear()


@lru_cache(maxsize=64)
def _load_policy(name: str, folder: Path) -> Policy:
    available = list_policies(folder)
    # Membership in the listing also keeps names like "../x" out of the path.
    if name not in available:
        raise PolicyError(
            f"unknown policy {name!r} in {folder}; available: {', '.join(available) or 'none'}"
        )
    path = folder / f"{name}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    if "name" in data:
        raise PolicyError(f"{path}: name: not allowed, the policy name is the file name")
    try:
        return Policy.model_validate({"name": name, **data})
    except ValidationError as exc:
        raise PolicyError(_describe(path, exc)) from None


def _describe(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ""
        for part in item["loc"]:
            key += f"[{part}]" if isinstance(part, int) else f"{'.' if key else ''}{part}"
        message = item["msg"].removeprefix("Value error, ")
        given = item.get("input")
        # A whole section (a missing key, a rule across keys) is too long to echo.
        got = "" if isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"{key or '(top level)'}: {message}{got}")
    return f"invalid policy file {path}:\n  " + "\n  ".join(lines)
