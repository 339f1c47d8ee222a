"""The type of an aggregate's allowed status changes, written once.

Each stateful table declares its `TRANSITIONS` (models/state_machine.py reads
them) as a `Transitions` of its own status enum, built by `transitions` from the
statuses that can change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import TypeAlias, TypeVar

S = TypeVar("S", bound=StrEnum)

#: Each status and the statuses it may change to (an empty set: a final status).
Transitions: TypeAlias = Mapping[S, frozenset[S]]


def transitions(statuses: type[S], moves: Mapping[S, Collection[S]]) -> Transitions[S]:
    """Every status of `statuses` with the statuses it may change to: `moves` names the
    statuses that can change, so a status it leaves out is final (and none is forgotten)."""
    return {status: frozenset(moves.get(status, ())) for status in statuses}
