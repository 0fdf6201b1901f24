"""Issue 7: a PostgreSQL URL's password never shows anywhere the kit writes text.

Property: with a password in the URL, the password appears in no repr or str (Pool, TradeStore,
DatabaseURL, DbScope, Connection, Settings), no stats (``pool.stats()``,
``get_connection_stats``), no health report, no exception (its str, repr, args, and the whole
formatted traceback with its ``__cause__``/``__context__`` chain), no log record (at DEBUG,
with DATABASE_ECHO on, migrations included) and no output of the ``tradestore`` command.

Why these tests prove it:

- The password is real: each secret logs in as a role of its own whose password it is
  (created, or its password set, once per session), so every code path that connects,
  queries, fails and logs runs with it inside the URL, on a trust server (CI's, where any
  password would do) and on one that checks passwords (scram-sha-256, md5) alike. Each test
  first checks that the parsed URL holds exactly that user and password and that the server
  let that role in, so a URL built wrong cannot make a test pass. Where the roles cannot be
  had (the test user may not create roles), the tests skip saying why, and FAIL under
  TRADESTORE_REQUIRE_POSTGRES=1 (CI): they never drop out of a CI run unnoticed.
- Four secrets: a plain password; a percent-escaped one (``p%40ss%3Aword``), which must show
  neither as written nor decoded (``p@ss:word``); one with a raw ``@`` (which urllib, and so
  the kit, accepts), whose halves either side of the ``@`` must not show either; and a plain
  one behind a user name with a raw ``@`` (``tradestore_leak@desk``), where a redaction that
  takes the user to end at the first ``@`` would find no password to hide.
- Every surface is collected as text and searched for each form and distinctive piece of the
  password. Each surface that names the database must also show the redacted URL (``***`` and
  the host) and each command must do its job (exit code, output), so a surface that printed
  nothing, or failed for another reason, cannot pass by saying nothing.

SQLite URLs have no password, so they are not tested here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tradestore import Pool, TradeStore, load_settings, migrate
from tradestore.db.scope import DbScope
from tradestore.db.url import REDACTED, parse_url
from tradestore.errors import (
    ConfigurationError,
    ConnectionFailed,
    DatabaseURLError,
    MigrationError,
    PoolTimeout,
    QueryError,
)
from tradestore.schema.introspect import get_connection_stats
from tradestore.trading.inputs import TradeSignal

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
NO_SUCH_DB = "tradestore_no_such_db"


@dataclass(frozen=True)
class Secret:
    """A login role and its password: the password as written in the URL, as the server
    receives it, and every piece of it that must never show."""

    user: str
    in_url: str
    value: str
    pieces: tuple[str, ...]


SECRETS = {
    "plain": Secret(
        "tradestore_leak_plain",
        "S3cr3t-pw-XYZ",
        "S3cr3t-pw-XYZ",
        ("S3cr3t-pw-XYZ", "S3cr3t", "pw-XYZ"),
    ),
    "escaped": Secret(
        "tradestore_leak_escaped",
        "p%40ss%3Aword",
        "p@ss:word",
        ("p%40ss%3Aword", "p@ss:word", "p%40ss", "ss%3Aword", "ss:word"),
    ),
    # A raw '@' inside the password: urllib splits the netloc at the LAST '@', so this URL is
    # accepted; a redaction that stops at the first '@' would leave "pw-XYZ" on show.
    "raw-at": Secret(
        "tradestore_leak_raw_at",
        "S3cr3t@pw-XYZ",
        "S3cr3t@pw-XYZ",
        ("S3cr3t@pw-XYZ", "S3cr3t", "pw-XYZ"),
    ),
    # A raw '@' inside the USER name: the user runs to the first ':', the password after it.
    "raw-at-user": Secret(
        "tradestore_leak@desk",
        "Hunt3r2-Qv7w",
        "Hunt3r2-Qv7w",
        ("Hunt3r2-Qv7w", "Hunt3r2", "Qv7w"),
    ),
}


@pytest.fixture(params=sorted(SECRETS))
def secret(request: pytest.FixtureRequest) -> Secret:
    return SECRETS[str(request.param)]


@pytest.fixture(scope="session")
def leak_roles(postgres_base_url: str, postgres_unavailable: Callable[[str], NoReturn]) -> None:
    """Each secret's login role, created if missing, its password set to that secret.

    Idempotent and safe for concurrent sessions on one server: roles are cluster-wide, so
    the check and the CREATE/ALTER run under one advisory lock, and every session sets the
    same passwords. The roles are kept (they own nothing outside the tests' schemas).
    """
    try:
        with psycopg.connect(postgres_base_url, autocommit=True) as admin, admin.transaction():
            admin.execute("SELECT pg_advisory_xact_lock(hashtext('tradestore leak roles'))")
            for s in SECRETS.values():
                found = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (s.user,))
                verb = "ALTER" if found.fetchone() else "CREATE"
                admin.execute(
                    sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                        sql.SQL(verb), sql.Identifier(s.user), sql.Literal(s.value)
                    )
                )
    except psycopg.Error as exc:
        postgres_unavailable(
            "the password-leak tests need login roles with known passwords, and the "
            f"TEST_DATABASE_URL user cannot create them ({type(exc).__name__}: "
            f"{str(exc).strip()}): give it CREATEROLE"
        )


def with_login(url: str, secret: Secret) -> str:
    """`url` logging in as `secret`'s role with its password (both raw, as a user writes them)."""
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{secret.user}:{secret.in_url}@{hostport}"))


def replace_netloc_part(url: str, *, port: int | None = None, database: str | None = None) -> str:
    """The same URL on another port or database (the password stays in it)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if port is not None:
        head, _, hostport = netloc.rpartition("@")
        host = hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport
        netloc = f"{head}@{host}:{port}"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit(parts._replace(netloc=netloc, path=path))


@pytest.fixture
def secret_url(
    leak_roles: None,
    postgres_base_url: str,
    pg_url: str,
    pg_schema: str,
    secret: Secret,
    postgres_unavailable: Callable[[str], NoReturn],
) -> str:
    """This test's schema, reached as `secret`'s role through a URL holding its password."""
    url = with_login(pg_url, secret)
    parsed = parse_url(url)  # the user and password really are in the URL, as meant
    assert (parsed.username, parsed.password) == (secret.user, secret.value)
    with psycopg.connect(postgres_base_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(
                sql.Identifier(pg_schema), sql.Identifier(secret.user)
            )
        )
    try:
        with psycopg.connect(parsed.conninfo(), connect_timeout=5) as conn:
            who = conn.execute("SELECT current_user").fetchone()
    except psycopg.OperationalError as exc:
        postgres_unavailable(
            f"the server refused role {secret.user!r} with its password "
            f"({type(exc).__name__}; pg_hba.conf may not let it in)"
        )
    assert who == (secret.user,)  # logged in as the role, so the password was the one used
    return url


def host_of(url: str) -> str:
    host = parse_url(url).host
    assert host
    return host


def assert_hidden(secret: Secret, text: str, where: str) -> None:
    for piece in secret.pieces:
        assert piece not in text, f"{where} shows the password piece {piece!r}:\n{text}"


def assert_redacted_url(text: str, host: str, where: str) -> None:
    """Where the database is named, it is named redacted: the mask and the host are there."""
    assert REDACTED in text, f"{where} does not show the redacted URL:\n{text}"
    assert host in text, f"{where} does not name the host {host}:\n{text}"


def exception_text(exc: BaseException) -> str:
    """Everything an error report shows of `exc`: the formatted traceback (which follows
    ``__cause__`` and an unsuppressed ``__context__``) plus str, repr and args of each link."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        texts += [str(link), repr(link), repr(link.args)]
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return "\n".join(texts)


def record_text(record: logging.LogRecord) -> str:
    """A log record as any handler could render it: message, args, the formatted record with
    its exception and stack, and every attribute (``extra=`` fields included)."""
    return "\n".join(
        [
            record.getMessage(),
            repr(record.args),
            logging.Formatter().format(record),
            repr(vars(record)),
        ]
    )


def signal(symbol: str = "AAPL") -> TradeSignal:
    return TradeSignal(
        symbol=symbol,
        action="BUY",
        strategy_name="momentum",
        quantity=Decimal("3.5"),
        signal_price=Decimal("187.25"),
        signal_time=T0,
    )


# -- repr, str, stats, health --------------------------------------------------------------


def test_reprs_stats_and_health_never_show_the_password(
    secret: Secret, secret_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(secret_url)
    host = host_of(secret_url)
    db = parse_url(secret_url)
    shown: dict[str, str] = {
        "DatabaseURL repr": repr(db),
        "DatabaseURL str": str(db),
        "DatabaseURL format": f"{db}",
        "DatabaseURL.redacted": db.redacted,
    }
    monkeypatch.setenv("DATABASE_URL", secret_url)
    settings = load_settings()
    assert settings.url.password == secret.value
    shown["Settings repr"] = repr(settings)
    shown["Settings str"] = str(settings)
    shown["Settings dump"] = repr(settings.model_dump())
    shown["Settings JSON"] = settings.model_dump_json()

    with Pool(secret_url, min_size=1, max_size=2, name="secret-pool") as pool:
        scope = DbScope(pool)
        with TradeStore(pool) as store:
            cid = store.log_trade(signal())
            assert store.get_trade(cid) is not None  # the pool really works with the password
            health = store.health_check()
            assert health["status"] == "healthy", health
            assert health["schema"]["ready"], health
            shown["TradeStore.health_check"] = json.dumps(health)
            shown["TradeStore repr"] = repr(store)
            shown["TradeStore str"] = str(store)
        pool_health = pool.health_check()
        assert pool_health["status"] == "healthy", pool_health
        shown["Pool.health_check"] = json.dumps(pool_health)
        shown["Pool repr"] = repr(pool)
        shown["Pool str"] = str(pool)
        shown["DbScope repr"] = repr(scope)
        shown["DbScope str"] = str(scope)
        stats = pool.stats()
        assert stats.checkouts > 0
        shown["PoolStats repr"] = repr(stats)
        shown["PoolStats dict"] = json.dumps(dataclasses.asdict(stats))
        connection_stats = get_connection_stats(pool)
        assert connection_stats["queries"], "the store's queries were timed on this pool"
        shown["get_connection_stats"] = json.dumps(connection_stats)
        with pool.connection() as conn:
            shown["Connection repr"] = repr(conn)
            shown["Backend.describe"] = pool.backend.describe()

    with TradeStore.from_env() as env_store:
        env_health = env_store.health_check()
        assert env_health["status"] == "healthy", env_health
        shown["TradeStore.from_env repr"] = repr(env_store)
        shown["TradeStore.from_env settings"] = repr(env_store.settings)
        shown["TradeStore.from_env health"] = json.dumps(env_health)

    for where, text in shown.items():
        assert_hidden(secret, text, where)
    for where in (
        "DatabaseURL repr",
        "DatabaseURL str",
        "TradeStore.health_check",
        "TradeStore repr",
        "Pool.health_check",
        "Pool repr",
        "get_connection_stats",
        "Connection repr",
        "TradeStore.from_env repr",
    ):
        assert_redacted_url(shown[where], host, where)
    assert "**********" in shown["Settings repr"]  # pydantic's SecretStr mask


# -- log records ---------------------------------------------------------------------------


def test_log_records_at_debug_with_echo_never_show_the_password(
    secret: Secret,
    secret_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: the kit's, yoyo's, psycopg's
    monkeypatch.setenv("DATABASE_URL", secret_url)
    monkeypatch.setenv("DATABASE_ECHO", "1")
    assert migrate()  # DATABASE_URL: applies every migration, yoyo logging each step

    with TradeStore.from_env() as store, TradeStore(store.pool, on_error="log") as lenient:
        cid = store.log_trade(signal())
        assert store.get_trade(cid) is not None
        assert len(store.get_trade_history(limit=5)) == 1
        with store.pool.connection() as conn, pytest.raises(QueryError):
            conn.execute("SELECT 1 / 0")  # a failing ad-hoc statement
        with store.pool.connection() as conn:
            conn.execute("DROP TABLE equity_curve CASCADE")
        with pytest.raises(QueryError):
            store.log_equity_snapshot(100)  # a failing named query: its table is gone
        assert lenient.log_equity_snapshot(100) is None  # on_error="log": logged at ERROR

    # The pool's connect retries are logged with the URL: a closed port, password inside.
    with pytest.raises(ConnectionFailed):
        Pool(replace_netloc_part(secret_url, port=1), min_size=1, timeout=0.3)
    # A connection held past leak_threshold is logged with the stack that took it.
    with (
        Pool(secret_url, min_size=0, max_size=1, leak_threshold=0.0) as pool,
        pool.connection() as conn,
    ):
        conn.execute("SELECT 1")

    records = caplog.records
    messages = [r.getMessage() for r in records]
    # Each source of records really spoke, so an empty log cannot pass the check below.
    assert any(r.name.startswith("yoyo") for r in records), "migrations logged nothing"
    assert any(r.name == "tradestore.queries" and r.levelno == logging.INFO for r in records), (
        "DATABASE_ECHO=1 logged no query"
    )
    assert any(r.name == "tradestore.store" and r.levelno == logging.ERROR for r in records)
    retries = [m for m in messages if "retrying" in m]
    assert retries, "no connect retry was logged"
    assert_redacted_url(retries[0], host_of(secret_url), "the connect retry warning")
    assert any("leak_threshold" in m for m in messages), "no leak warning was logged"

    for record in records:
        assert_hidden(secret, record_text(record), f"log record {record.name}:{record.lineno}")
    assert_hidden(secret, caplog.text, "caplog.text")


# -- exceptions ----------------------------------------------------------------------------


MALFORMED = (
    "postgresql://{user}:{pw}@{host}:notaport/test",
    "postgresql://{user}:{pw}@{host}:99999/test",
    "postgresql://{user}:{pw}@[{host}/test",
    "postgresql://{user}:{pw}@{host}/test#fragment",
    "mysql://{user}:{pw}@{host}/test",
    "sqlite://{user}:{pw}@{host}/test",
    "postgresql:/{user}:{pw}@{host}/test",
    "{user}:{pw}@{host}/test",
    "host={host} user={user} password={pw} dbname=test",
)
"""URLs the kit must refuse, each holding the password: the forgotten scheme, a port that is
no number, a stray fragment, a DSN instead of a URL, a backend it does not support..."""


def test_malformed_urls_are_refused_without_the_password(
    secret: Secret, monkeypatch: pytest.MonkeyPatch
) -> None:
    for template in MALFORMED:
        url = template.format(user=secret.user, pw=secret.in_url, host="127.0.0.1")
        with pytest.raises(DatabaseURLError) as direct:
            parse_url(url)
        with pytest.raises(DatabaseURLError) as pooled:
            Pool(url, min_size=0)
        monkeypatch.setenv("DATABASE_URL", url)
        with pytest.raises(ConfigurationError) as configured:
            load_settings()
        for how, info in (("parse_url", direct), ("Pool", pooled), ("load_settings", configured)):
            where = f"{how}({template})"
            assert_hidden(secret, exception_text(info.value), where)
            assert REDACTED in str(info.value), f"{where}: {info.value}"


@pytest.mark.parametrize("mark", ["#", "?"])
def test_a_raw_hash_or_question_mark_in_the_password_is_refused_without_it(mark: str) -> None:
    # urllib ends the netloc at a raw '#' or '?', so it reads the password's first half as
    # the port, and its message quotes it ("Port could not be cast to integer value as
    # 'S3cr3t'"): the kit says what is wrong in words of its own instead.
    secret = Secret("trader", f"S3cr3t{mark}pw-XYZ", f"S3cr3t{mark}pw-XYZ", ("S3cr3t", "pw-XYZ"))
    url = f"postgresql://{secret.user}:{secret.in_url}@127.0.0.1:5432/test"
    with pytest.raises(DatabaseURLError) as info:
        parse_url(url)
    assert_hidden(secret, exception_text(info.value), f"parse_url with a raw {mark!r}")
    assert "the port is not a number" in str(info.value)  # the failure this test is about
    assert REDACTED in str(info.value)


def test_connection_query_and_migration_errors_never_show_the_password(
    secret: Secret, secret_url: str
) -> None:
    host = host_of(secret_url)
    closed_port = replace_netloc_part(secret_url, port=1)
    no_such_db = replace_netloc_part(secret_url, database=NO_SUCH_DB)
    caught: dict[str, BaseException] = {}

    with pytest.raises(ConnectionFailed) as refused:
        Pool(closed_port, min_size=1, timeout=0.3)
    caught["ConnectionFailed (closed port)"] = refused.value
    with pytest.raises(ConnectionFailed) as fatal:
        Pool(no_such_db, min_size=1, timeout=0.3)  # the server's own FATAL message
    assert NO_SUCH_DB in str(fatal.value)
    caught["ConnectionFailed (no such database)"] = fatal.value
    with Pool(secret_url, min_size=0, max_size=1, timeout=0.3) as pool:
        with pool.connection() as conn:
            with pytest.raises(PoolTimeout) as exhausted:
                pool.getconn(timeout=0.05)
            caught["PoolTimeout"] = exhausted.value
            with pytest.raises(QueryError) as bad_statement:
                conn.execute("SELECT 1 / 0")
            assert bad_statement.value.sqlstate == "22012"  # division_by_zero
            caught["QueryError (statement)"] = bad_statement.value
        with TradeStore(pool) as store, pytest.raises(QueryError) as bad_query:
            store.get_trade_history()  # the schema is not migrated: no such table
        assert bad_query.value.sqlstate == "42P01"
        caught["QueryError (named query)"] = bad_query.value
        with pytest.raises(ConnectionFailed) as store_refused:
            TradeStore(closed_port, min_size=1, timeout=0.3)
        caught["ConnectionFailed (TradeStore)"] = store_refused.value
    with pytest.raises(MigrationError) as migrate_refused:
        migrate(closed_port)
    caught["MigrationError (closed port)"] = migrate_refused.value
    with pytest.raises(MigrationError) as migrate_fatal:
        migrate(no_such_db)
    caught["MigrationError (no such database)"] = migrate_fatal.value

    for where, exc in caught.items():
        assert_hidden(secret, exception_text(exc), where)
    for where in (
        "ConnectionFailed (closed port)",
        "ConnectionFailed (no such database)",
        "ConnectionFailed (TradeStore)",
        "PoolTimeout",
        "MigrationError (closed port)",
        "MigrationError (no such database)",
    ):
        assert_redacted_url(str(caught[where]), host, where)


# -- the tradestore command ----------------------------------------------------------------


def tradestore_command() -> list[str]:
    """The installed console script when there is one, else the same entry point via -c."""
    script = Path(sys.executable).with_name("tradestore")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from tradestore.cli import main; sys.exit(main())"]


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(cwd: Path, database_url: str | None, *argv: str) -> Run:
    """Run `tradestore` in a fresh process, DATABASE_ECHO on, DATABASE_URL as given."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_ECHO")}
    env["DATABASE_ECHO"] = "1"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [*tradestore_command(), *argv],
        cwd=cwd,  # no stray .env file or data/ folder from the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(tuple(argv), done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Expect:
    """One command, its DATABASE_URL (None: unset), its exit code and text it must print."""

    url: str | None
    argv: tuple[str, ...]
    code: int = 0
    shows: tuple[str, ...] = ()


def run_checked(cwd: Path, expect: Expect) -> Run:
    run = cli(cwd, expect.url, *expect.argv)
    assert run.code == expect.code, f"{expect.argv}: exit {run.code}\n{run.text}"
    for text in expect.shows:
        assert text in run.text, f"{expect.argv} should print {text!r}:\n{run.text}"
    return run


@pytest.mark.slow
def test_cli_output_never_shows_the_password(
    secret: Secret, secret_url: str, tmp_path: Path
) -> None:
    host = host_of(secret_url)
    # Migrations first, in order.
    runs = [
        run_checked(tmp_path, expect)
        for expect in (
            Expect(secret_url, ("migrate",), shows=("applied 0001_bot_run_records",)),
            Expect(secret_url, ("status",), shows=("5 applied, 0 pending",)),
        )
    ]
    with TradeStore(secret_url) as store:
        store.log_trade(signal("MSFT"))
        store.log_equity_snapshot(1000, ts=T0)

    closed_port = replace_netloc_part(secret_url, port=1)
    no_such_db = replace_netloc_part(secret_url, database=NO_SUCH_DB)
    port_typo = MALFORMED[0].format(user=secret.user, pw=secret.in_url, host="127.0.0.1")
    no_scheme = MALFORMED[-2].format(user=secret.user, pw=secret.in_url, host="127.0.0.1")
    fast = ("--timeout", "0.5")
    # The rest only read (or fail): run them side by side, each in its own process.
    named = {
        "health": Expect(secret_url, ("health",), shows=('"status": "healthy"',)),
        "stats": Expect(secret_url, ("stats",), shows=('"pool"',)),
        "trades": Expect(None, ("--database-url", secret_url, "trades"), shows=("MSFT",)),
        "equity": Expect(secret_url, ("equity",), shows=("max drawdown",)),
        "check-sql": Expect(None, ("check-sql", "--url", secret_url), shows=("0 problem(s)",)),
        "restore": Expect(secret_url, ("restore", str(tmp_path / "x.dump")), 2, ("--yes",)),
        # Failures: each names the database, redacted, and exits 1.
        "down health": Expect(closed_port, ("health", *fast), 1, ('"unhealthy"',)),
        "down status": Expect(closed_port, ("status",), 1, ("error:",)),
        "no db stats": Expect(no_such_db, ("stats", *fast), 1, (NO_SUCH_DB,)),
        "no db migrate": Expect(None, ("--database-url", no_such_db, "migrate"), 1, (NO_SUCH_DB,)),
        # Malformed URLs, from DATABASE_URL and from --database-url (the library test above
        # covers every shape; these prove the command prints the same redacted refusal).
        "port typo": Expect(port_typo, ("health",), 1, ("error:", REDACTED)),
        "no scheme": Expect(None, ("--database-url", no_scheme, "trades"), 1, ("error:", REDACTED)),
    }
    with ThreadPoolExecutor(max_workers=8) as workers:
        done = dict(
            zip(named, workers.map(lambda e: run_checked(tmp_path, e), named.values()), strict=True)
        )
    runs += done.values()

    assert_redacted_url(json.loads(done["health"].out)["database"], host, "health JSON")
    assert_redacted_url(json.loads(done["stats"].out)["database"], host, "stats JSON")
    assert_redacted_url(done["restore"].err, host, "restore's target")
    for name in ("down health", "down status", "no db stats", "no db migrate"):
        assert_redacted_url(done[name].text, host, f"tradestore {' '.join(done[name].argv)}")

    for run in runs:
        assert_hidden(secret, run.out, f"stdout of tradestore {' '.join(run.argv)}")
        assert_hidden(secret, run.err, f"stderr of tradestore {' '.join(run.argv)}")
