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

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field


def _to_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _decode_json(value: Any) -> Any:
    if isinstance(value, str | bytes | bytearray):
        return json.loads(value)
    return value


Money = Annotated[Decimal, Field(max_digits=20, decimal_places=8, allow_inf_nan=False)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_decode_json)]
JsonList = Annotated[list[Any], BeforeValidator(_decode_json)]

__all__ = ["JsonList", "JsonObject", "Money", "UtcDatetime"]
