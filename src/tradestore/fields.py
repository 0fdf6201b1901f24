"""Field types shared by every row and input model, so both backends give the same values.

- `Money`: Decimal within numeric(20,8): at most 12 digits before the point and 8 after;
  NaN and infinities rejected. SQLite hands back text, PostgreSQL a Decimal: both validate.
- `UtcDatetime`: timezone-aware, normalised to UTC; naive datetimes are rejected.
- `JsonObject` / `JsonList`: PostgreSQL jsonb arrives decoded, SQLite JSON text is decoded here.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer


def _to_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


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
JsonObject = Annotated[dict[str, Any], BeforeValidator(_decode_json)]
JsonList = Annotated[list[Any], BeforeValidator(_decode_json)]

__all__ = ["JsonList", "JsonObject", "Money", "UtcDatetime"]
