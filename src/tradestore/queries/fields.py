"""Field types shared by every row and input model, so both backends give the same values.

- `Money`: Decimal within numeric(20,8): at most 12 digits before the point and 8 after;
  NaN and infinities rejected. SQLite hands back text, PostgreSQL a Decimal: both validate.
- `UtcDatetime`: timezone-aware, normalised to UTC; naive datetimes are rejected, and so are
  instants that fall outside years 1..9999 once in UTC.
- `Text`: a str without NUL ('\\x00'): PostgreSQL text cannot store it, SQLite can, so it is
  refused on both, naming the field, instead of failing only on PostgreSQL at the INSERT.
- `JsonObject` / `JsonList`: PostgreSQL jsonb arrives decoded, SQLite JSON text is decoded here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer


def _to_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        # e.g. 0001-01-01T00:00+01:00: a ValueError makes pydantic name the field; an
        # OverflowError would escape validation as a bare exception.
        raise ValueError(f"{value.isoformat()} is outside years 1..9999 in UTC") from None


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters ('\\x00'): PostgreSQL cannot store them")
    return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


def refuse_nul(params: Mapping[str, Any], query: str) -> None:
    """ValueError naming the parameter when a text or JSON value of `params` holds NUL.

    The entity repositories bind their arguments straight to SQL (no input model): without
    this, a NUL would be stored by SQLite and refused by PostgreSQL only at the INSERT.
    """
    for name, value in params.items():
        if _holds_nul(value):
            raise ValueError(
                f"{query}: parameter {name!r} must not contain NUL characters ('\\x00'): "
                "PostgreSQL cannot store them"
            )


def _decode_json(value: Any) -> Any:
    if isinstance(value, str | bytes | bytearray):
        return json.loads(value)
    return value


def _decimal_json(value: Decimal) -> str:
    # One canonical text for one value: PostgreSQL hands back numeric(20,8) with its scale
    # ('20.50000000', zero as '0E-8'), SQLite the text that was stored ('20.5'); audit JSON
    # and exports must not differ by backend. Only JSON dumps pay for this, not row building.
    return format(value.normalize(), "f")


Money = Annotated[
    Decimal,
    Field(max_digits=20, decimal_places=8, allow_inf_nan=False),
    PlainSerializer(_decimal_json, return_type=str, when_used="json"),
]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Text = Annotated[str, AfterValidator(_no_nul)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_decode_json)]
JsonList = Annotated[list[Any], BeforeValidator(_decode_json)]

__all__ = ["JsonList", "JsonObject", "Money", "Text", "UtcDatetime", "refuse_nul"]
