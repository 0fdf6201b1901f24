"""Parse and redact database URLs.

One parsed, frozen `DatabaseURL` crosses module lines; its `repr`/`str` never show a password.
Accepted forms:

- ``postgresql://user:pw@host:5432/db?opt=val`` (also ``postgres://`` and ``postgresql+psycopg://``)
- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite:///:memory:``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from tradestore.errors import DatabaseURLError

Dialect = Literal["postgresql", "sqlite"]

_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg3"}
_SQLITE_SCHEMES = {"sqlite", "sqlite3"}
# Read as urllib reads it: the user runs to the first ':' (a raw '@' in it, as in
# "bot@desk:pw@db", is still the user's) and the password to the last '@' of the URL, so a raw
# '@' or '/' inside a password must not leave the part after it on show. (An '@' later in a
# path or query hides a little more than the password: hiding too much is the safe side.)
_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[a-z0-9+.-]+://[^:/\s]*:)(?P<pw>(?:[^@\s]*@(?=[^@\s]*@))*[^@\s]*)(?P<at>@)",
    re.I,
)
_PASSWORD_IN_DSN = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)
REDACTED = "***"
# A scheme as RFC 3986 spells it: "user:pw://x@host" has none (the "://" is in the password).
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.I)
# Blanks and control characters: urllib drops tabs and newlines silently and redaction stops
# at a blank, so a raw one in the user or password could put the rest of it on show.
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def redact(text: str, *secrets: str | None) -> str:
    """Hide passwords in `text`: any URL userinfo password, any ``password=`` pair, and
    every literal occurrence of the given secrets (driver messages may echo them)."""
    text = _PASSWORD_IN_URL.sub(lambda m: m["head"] + REDACTED + m["at"], text)
    text = _PASSWORD_IN_DSN.sub(lambda m: m["head"] + REDACTED, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, REDACTED)
    return text


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL. `password` is kept out of repr and equality output."""

    dialect: Dialect
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    _raw: str = field(default="", repr=False, compare=False)

    @property
    def is_memory(self) -> bool:
        """True for ``sqlite:///:memory:``: one private database per pool."""
        return self.dialect == "sqlite" and self.database in (None, "", ":memory:")

    @property
    def options(self) -> dict[str, str]:
        return dict(self.query)

    @property
    def redacted(self) -> str:
        """The URL as it may be shown in logs and errors."""
        return redact(self._raw, self.password)

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"DatabaseURL({self.redacted!r})"

    def conninfo(self) -> str:
        """The libpq URI for psycopg 3 (``postgresql://``), password included: never log it."""
        if self.dialect != "postgresql":
            raise DatabaseURLError(f"{self.redacted} is not a PostgreSQL URL")
        userinfo = ""
        if self.username:
            userinfo = quote(self.username, safe="")
            if self.password is not None:
                userinfo += ":" + quote(self.password, safe="")
            userinfo += "@"
        host = self.host or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        db = "/" + quote(self.database, safe="") if self.database else ""
        params = [(k, v) for k, v in self.query if k != "schema"]
        qs = "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params) if params else ""
        return f"postgresql://{userinfo}{host}{port}{db}{qs}"

    def yoyo_url(self) -> str:
        """The URL yoyo 9 needs: ``postgresql+psycopg://`` selects psycopg 3, not psycopg2."""
        if self.dialect == "sqlite":
            return "sqlite:///" + (self.database or ":memory:")
        return "postgresql+psycopg" + self.conninfo()[len("postgresql") :] + self._schema_query()

    def _schema_query(self) -> str:
        schema = self.options.get("schema")
        if not schema:
            return ""
        joiner = "&" if "?" in self.conninfo() else "?"
        return f"{joiner}schema={quote(schema)}"

    @property
    def schema(self) -> str | None:
        """PostgreSQL schema put first on the search_path (``?schema=NAME``, as in yoyo)."""
        return self.options.get("schema")


def parse_url(url: str | DatabaseURL) -> DatabaseURL:
    """Parse `url`; raise `DatabaseURLError` (password redacted) when it cannot be used."""
    if isinstance(url, DatabaseURL):
        return url
    if not isinstance(url, str) or not url.strip():
        raise DatabaseURLError("database URL is empty; set DATABASE_URL or pass a URL")
    raw = url.strip()
    credentials = raw.rpartition("@")[0]
    scheme_typed, _, after_scheme = credentials.partition("://")
    sqlite_path = scheme_typed.lower() in _SQLITE_SCHEMES and after_scheme.startswith("/")
    if (
        after_scheme
        and not sqlite_path  # sqlite:///a path: no credentials, and a path may hold blanks, '@'
        and _BLANK_OR_CONTROL.search(credentials)
    ):
        raise DatabaseURLError(
            f"malformed database URL {_credentials_hidden(raw)!r}: a blank or control "
            "character before the '@' (in the scheme, user or password); percent-encode it "
            "(a space is %20)"
        )
    if not _SCHEME.match(raw):  # e.g. ``user:pw@host/db`` with the scheme forgotten
        raise DatabaseURLError(
            f"malformed database URL {_credentials_hidden(raw)!r}: expected scheme://..., "
            "e.g. postgresql://user@host/db or sqlite:///path/to/file.db"
        )
    shown = redact(raw)
    scheme = raw.split("://", 1)[0].lower()
    if scheme in _SQLITE_SCHEMES:
        return _parse_sqlite(raw, shown)
    if scheme in _POSTGRES_SCHEMES:
        return _parse_postgres(raw, shown)
    raise DatabaseURLError(
        f"unsupported database URL scheme {scheme!r} in {_credentials_hidden(raw)!r}: "
        "use postgresql://, postgresql+psycopg:// or sqlite:///"
    )


def _credentials_hidden(raw: str) -> str:
    """`raw` with everything before its last '@' hidden, but for a well-formed scheme.

    For URLs of no known shape (no scheme, an unknown one, a blank in the userinfo), where
    `redact`'s pattern cannot tell the user from the password: hiding the user too is safe.
    """
    # Redacted first: a ``password=...`` pair (a DSN pasted as a URL) may hold the last '@'.
    head, at, location = redact(raw).rpartition("@")
    if not at:
        return location
    scheme = _SCHEME.match(head)
    return f"{scheme[0] if scheme else ''}{REDACTED}@{location}"


def _parse_sqlite(raw: str, shown: str) -> DatabaseURL:
    rest = raw.split("://", 1)[1]
    if not rest.startswith("/"):
        raise DatabaseURLError(
            f"malformed SQLite URL {shown!r}: use sqlite:///relative.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:"
        )
    path, _, qs = rest[1:].partition("?")
    path = unquote(path)
    if path in ("", ":memory:"):
        path = ":memory:"
    return DatabaseURL(dialect="sqlite", database=path, query=tuple(parse_qsl(qs)), _raw=raw)


def _parse_postgres(raw: str, shown: str) -> DatabaseURL:
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        # urllib's message quotes what it took for the port, which with a raw '#', '?' or '/'
        # in the password IS the password: say what is wrong in words of our own instead.
        problem = str(exc)
        if "Port" in problem:
            detail = (
                "the port is not a number from 0 to 65535 (a raw '#', '?' or '/' in the "
                "password cuts the URL short there: percent-encode it)"
            )
        elif "IPv6" in problem:
            detail = "the host is an invalid IPv6 address in brackets"
        else:
            detail = "it cannot be parsed"
        raise DatabaseURLError(f"malformed PostgreSQL URL {shown!r}: {detail}") from None
    database = unquote(parts.path.lstrip("/")) or None
    if parts.fragment:
        raise DatabaseURLError(f"malformed PostgreSQL URL {shown!r}: unexpected '#' fragment")
    return DatabaseURL(
        dialect="postgresql",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        host=parts.hostname,
        port=port,
        database=database,
        query=tuple(parse_qsl(parts.query)),
        _raw=raw,
    )
