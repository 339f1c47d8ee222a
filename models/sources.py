"""The documents the checklists rest on, by the name staff know them by.

The code cites the source documents as the project keeps them: "seed 003 steg 1;
seed 002 §3.1" (the files in shared/seeds/, domain.md §0). Staff never see a
seed number: `cited` turns such a citation into the document's Swedish name and
section, "Stockholms stad, Kundval hemtjänst (steg 1); Salems förfrågningsunderlag
§3.1". A citation of a law ("LOV 7 kap. 1 § 3 p.") is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """A source document: its Swedish name, and how a section follows the name.

    `section` gets the name and the section cited ("§3.1", "steg 1").
    """

    name: str
    section: str = "{name} {section}"


#: Seed file number (shared/seeds/NNN_*.txt) -> the document, as domain.md §0 names them.
DOCUMENTS: Mapping[str, Document] = {
    "000": Document("Huddinge kommun, webbsidan ”För dig som är verksam i Huddinge”"),
    "001": Document("Strängnäs kommun, frågor och svar för företag"),
    # The förfrågningsunderlag is cited by paragraph: "Salems förfrågningsunderlag §3.1".
    "002": Document("Salems förfrågningsunderlag"),
    # Slides cited by step: "Stockholms stad, Kundval hemtjänst (steg 1)".
    "003": Document("Stockholms stad, Kundval hemtjänst", "{name} ({section})"),
    "004": Document("Halmstads kommun, rutin för köp av tjänst"),
}

#: One part of a citation that names a seed: "seed 003 steg 1".
_SEED = re.compile(r"seed (\d{3})(?: (.+))?")


def cited(citation: str) -> str:
    """`citation` as staff read it: each "seed NNN <section>" of its "; "-separated parts
    as the document's name and section; any other part (a law) as it is."""
    parts = []
    for part in citation.split("; "):
        match = _SEED.fullmatch(part)
        if match is None:
            parts.append(part)
            continue
        document, section = DOCUMENTS[match.group(1)], match.group(2)
        parts.append(
            document.name
            if section is None
            else document.section.format(name=document.name, section=section)
        )
    return "; ".join(parts)
