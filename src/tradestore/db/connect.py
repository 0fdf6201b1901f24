"""`tradestore.connect()`: a pool configured from the environment."""

from __future__ import annotations

from typing import Any

from tradestore.db.pool import Pool
from tradestore.db.settings import load_settings
from tradestore.db.url import DatabaseURL


def connect(url: str | DatabaseURL | None = None, **knobs: Any) -> Pool:
    """Open a pool. Without `url`, DATABASE_URL is used; knobs not given come from the
    environment (DB_POOL_SIZE -> min_size, DB_POOL_SIZE + DB_MAX_OVERFLOW -> max_size)."""
    settings = load_settings()
    options = settings.pool_knobs()
    options.update(knobs)
    return Pool(url if url is not None else settings.url, **options)


__all__ = ["connect"]
