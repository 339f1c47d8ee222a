"""A deployment parameter's Swedish title, as the Prefect UI shows it above the field.

Prefect 3.8.8 titles each parameter of a flow by its Python name
(prefect/_internal/pydantic/v2_schema.py, process_v2_params: `title=param.name`),
so staff read "contract" or "case_number" in the Run form. The same function
merges a pydantic `Field`'s `json_schema_extra` into the property after that,
so the title given there is the one in the deployment's parameter schema. It
copies nothing else of the `Field` (no `pattern=`, no `min_length=`): a shape
the Run form should refuse goes into `json_schema_extra` as well, and
flows/parameter_check.py checks it again in the run.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue
from pydantic_core import PydanticUndefined

from models.forms.registration import CASE_NUMBER_SHAPE, whole


def parameter(
    title: str,
    description: str | None = None,
    default: Any = PydanticUndefined,
    *,
    pattern: str | None = None,
) -> Any:
    """The default of a flow parameter: its Swedish `title` and `description` in the UI,
    and the `pattern` the Prefect server holds a text to before the run exists."""
    extra: dict[str, JsonValue] = {"title": title}
    if pattern is not None:
        extra["pattern"] = pattern
    return Field(default=default, description=description, json_schema_extra=extra)


def reference(
    title: str,
    description: str | None = None,
    *,
    prefix: str = "",
    default: Any = PydanticUndefined,
) -> Any:
    """A case's number as staff type it (8 characters, "9F4F7CA2", or the whole id).

    Args:
        prefix: a word the flow reads before the number ("avtal", as in the run
            name "avtal 9F4F7CA2"); only where the flow's lookup takes it.
        default: "" where the parameter may be left empty (then "" matches too).
    """
    pattern = whole(CASE_NUMBER_SHAPE, prefix=prefix, optional=default == "")
    return parameter(title, description, default, pattern=pattern)
