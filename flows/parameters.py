"""A deployment parameter's Swedish title, as the Prefect UI shows it above the field.

Prefect 3.8.8 titles each parameter of a flow by its Python name
(prefect/_internal/pydantic/v2_schema.py, process_v2_params: `title=param.name`),
so staff read "contract" or "case_number" in the Run form. The same function
merges a pydantic `Field`'s `json_schema_extra` into the property after that,
so the title given there is the one in the deployment's parameter schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_core import PydanticUndefined


def parameter(title: str, description: str | None = None, default: Any = PydanticUndefined) -> Any:
    """The default of a flow parameter: its Swedish `title` and `description` in the UI."""
    return Field(default=default, description=description, json_schema_extra={"title": title})
