"""What every policy section shares: unknown keys are refused, values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    # extra="forbid": a misspelt key is refused, not ignored. frozen: one loaded
    # policy is shared through the cache, so nobody may change it in place;
    # sequences are tuples for the same reason.
    model_config = ConfigDict(extra="forbid", frozen=True)


def unique_sorted(values: tuple[int, ...], what: str) -> tuple[int, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat a value")
    return tuple(sorted(values))
