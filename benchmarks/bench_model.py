"""The row model every contender builds: one `trades` row of the bench fixture."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel


class BenchTrade(BaseModel):
    """A trade as the bench table stores it; plain types so no contender pays custom validators."""

    id: int
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    ts: dt.datetime


#: Column order of every SELECT in the bench (hand-written code knows its columns).
COLUMNS = ("id", "symbol", "side", "qty", "price", "ts")
validate = BenchTrade.__pydantic_validator__.validate_python
