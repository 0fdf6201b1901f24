"""What both faces of the audit trail share: time checks and JSON-safe values. No I/O here.

Values are stored as JSON: Decimals as exact strings, datetimes as ISO strings (pydantic's
JSON mode), so both backends agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python


def require_aware(value: dt.datetime, name: str) -> dt.datetime:
    """`value` if it is timezone-aware; a naive time would mean different instants on the
    two backends (PostgreSQL reads it in the session's zone, the SQLite adapter refuses it)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not naive {value.isoformat()}")
    return value


def json_values(value: BaseModel | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A row or mapping as a JSON-safe dict (Decimal -> str, datetime -> ISO str)."""
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    jsonable: dict[str, Any] = to_jsonable_python(dict(value))
    return jsonable


__all__ = ["json_values", "require_aware"]
