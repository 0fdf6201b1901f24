"""What every repository shares on both faces: the checks of optimistic locking and the
helpers that turn rows into parameters. No I/O here (the scope, the queries and the audit
trail are held by `Repository` / `AsyncRepository`, ``_repository_async.py``).

Optimistic locking: each row carries `version`; a caller passes the version it read, the
UPDATE/DELETE matches on it and bumps it. A write first re-reads the row in its transaction:
no row is `NotFound`, another version is `StaleVersionError`. If a concurrent writer commits
between that read and the UPDATE (PostgreSQL, READ COMMITTED), the UPDATE matches no row and
`_written` turns that into `StaleVersionError` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tradestore.errors import NotFound, QueryError, StaleVersionError
from tradestore.queries.fields import refuse_nul

R = TypeVar("R", bound=BaseModel)


class EntityChecks:
    """Base of the entity repositories: what a missing row, a stale version and a raced
    write raise, named by `entity_type`."""

    entity_type: str = ""

    def _found(self, row: R | None, entity_id: int) -> R:
        if row is None:
            raise NotFound(f"{self.entity_type} {entity_id} not found")
        return row

    def _check_version(self, current_version: int, entity_id: int, version: int | None) -> None:
        if version is not None and version != current_version:
            raise StaleVersionError(
                f"{self.entity_type} {entity_id}: version {version} is stale "
                f"(the row is at version {current_version}; read it again and retry)"
            )

    def _written(self, row: R | None, entity_id: int, version: int, query: str) -> R:
        """The row an UPDATE/DELETE ... RETURNING gave back; None means a writer raced us."""
        if row is None:
            raise StaleVersionError(
                f"{self.entity_type} {entity_id}: version {version} was changed by another "
                f"writer during {query}; read it again and retry"
            )
        return row


def merged(current: R, changes: Mapping[str, Any], allowed: Iterable[str], entity: str) -> R:
    """`current` with `changes` applied, validated by the row model (types, Money precision).

    Unknown or read-only fields raise TypeError naming them, like a bad keyword argument.
    """
    allowed_set = set(allowed)
    refused = sorted(set(changes) - allowed_set)
    if refused:
        raise TypeError(
            f"{entity} update: cannot change {', '.join(refused)} "
            f"(changeable: {', '.join(sorted(allowed_set))})"
        )
    refuse_nul(changes, f"{entity} update")
    data = current.model_dump()
    data.update(changes)
    try:
        return type(current).model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{entity} update: {exc}") from None


def params_of(row: BaseModel, names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row, ready to pass as query parameters."""
    return {name: getattr(row, name) for name in names}


def one(row: R | None, query: str) -> R:
    """The row an INSERT ... RETURNING gave back (it always gives one)."""
    if row is None:  # pragma: no cover  (INSERT ... RETURNING always returns the row)
        raise QueryError(f"{query} returned no row", query=query)
    return row


__all__ = ["EntityChecks", "merged", "one", "params_of"]
