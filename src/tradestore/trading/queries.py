"""The trading schema's named queries, typed: ``load_queries()`` is a `BuiltinQueries`.

`tradestore.load_queries` is this function: the kit's loader (`tradestore.queries.loader`)
with the built-in sql/ as the default folder and the trading schema's row models
(`tradestore.trading.models`) known to every folder, so a user's own SQL may return a
`Trade` or an `Order` as well as its own models.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, overload

from tradestore.queries import loader
from tradestore.queries.registry import ModelsArg, models_of
from tradestore.resources import builtin_sql_dir
from tradestore.trading import models as trading_models

if TYPE_CHECKING:
    from tradestore.trading.builtin_queries import BuiltinQueries


@overload
def load_queries(
    path: None = None,
    *,
    models: None = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> BuiltinQueries: ...


@overload
def load_queries(
    path: str | Path | None = None,
    *,
    models: ModelsArg = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> loader.Queries: ...


def load_queries(
    path: str | Path | None = None,
    *,
    models: ModelsArg = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> loader.Queries | BuiltinQueries:
    """Load every named query under `path` (default: the built-in sql/) into one namespace.

    `models` adds row models (a mapping of names to classes, or a module) to the trading
    schema's. `echo` (DATABASE_ECHO) logs every call at INFO on the ``tradestore.queries``
    logger with name, file:line and time; `slow_query_ms` (DB_SLOW_QUERY_MS) logs slower
    calls at WARNING. Parameter values are never logged. Malformed files raise
    `SqlFileError` naming file:line.

    Typed: without arguments mypy sees `BuiltinQueries` (generated from sql/ by
    `make stubs`); for a folder of your own, generate a Protocol with `tradestore stubs`
    and ``cast()`` the result to it.
    """
    return loader.load_queries(
        builtin_sql_dir() if path is None else path,
        models=models,
        base_models=models_of(trading_models),
        echo=echo,
        slow_query_ms=slow_query_ms,
    )


__all__ = ["load_queries"]
