"""How tests/conftest.py deals the case modules to xdist streams: the split is the
most even one, and every case module has its measured seconds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import MODULE_SECONDS, deal_to_streams


def _stream_seconds(dealt: dict[str, int], streams: int) -> list[int]:
    return [
        sum(MODULE_SECONDS[m] for m, stream in dealt.items() if stream == k) for k in range(streams)
    ]


def test_the_split_is_the_most_even_one() -> None:
    modules = sorted(MODULE_SECONDS)
    two = _stream_seconds(deal_to_streams(modules, 2), 2)
    # 829 s in all: no split of these nine does better than 414 + 415.
    assert sorted(two) == [414, 415]
    three = _stream_seconds(deal_to_streams(modules, 3), 3)
    # vetting alone is 185 s: the best of three holds 269, 280 and 280.
    assert sorted(three) == [269, 280, 280]
    assert set(deal_to_streams(modules, 1).values()) == {0}


def test_many_modules_are_dealt_longest_first_to_the_shortest_stream() -> None:
    modules = [f"test_m{i}" for i in range(20)]  # 2**20 splits: past the exhaustive search
    dealt = deal_to_streams(modules, 2)
    assert sorted(dealt.values()).count(0) == 10


def test_every_case_module_has_its_seconds() -> None:
    case_modules = {
        path.stem
        for path in Path(__file__).parent.glob("test_*.py")
        if re.search(r"\bstack: Stack\b", path.read_text())
    }
    assert case_modules, "no case module found: the pattern no longer matches"
    assert case_modules <= set(MODULE_SECONDS), case_modules - set(MODULE_SECONDS)
