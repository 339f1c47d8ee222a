"""Where lovflow finds its own files: policies/ and templates/ sit beside the packages."""

from __future__ import annotations

from pathlib import Path

#: The project root: policies/ and templates/ are found from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
