"""The SQL tokenizer behind named SQL files: `:parameters`, statement ends, `-- name:` lines.

It follows PostgreSQL's lexer (``scan.l``) where that decides what is code: identifiers start
with a letter or ``_`` and go on with letters, digits, ``_`` and ``$``, where every non-ASCII
character but a blank counts as a letter (PostgreSQL treats bytes 0x80-0xFF so);
``'strings'`` (``''`` escapes), ``E'..'`` (backslash escapes), ``"identifiers"``,
``-- comments``, nested ``/* comments */``, ``$tag$ bodies $tag$`` (the tag is an
identifier without ``$``; a ``$`` inside a word is part of the word, never a quote) and
``::casts``. None of those is ever mistaken for a parameter.

Where a statement ends follows psql's rules (``psqlscan.l``): a ``;`` inside parentheses, or
inside the ``BEGIN ... END`` body of ``CREATE FUNCTION/PROCEDURE`` (``BEGIN ATOMIC``) or
``CREATE TRIGGER`` (SQLite), does not end it; ``CASE ... END`` inside such a body nests.

Inside an array subscript (a ``[`` right after an operand: a word, ``)``, ``]``, a quoted
name or a parameter) a ``:`` is PostgreSQL's slice colon, so ``arr[2:n]`` and ``arr[:n::int]``
have no parameter; a parameter there goes in parentheses: ``arr[(:i)]``. ``ARRAY[:a, :b]``
(a constructor, not a subscript) takes parameters as written.

Unterminated quotes, comments or brackets simply run to the end of the text: the tokenizer
never raises; it reports what was left open, and the loader turns that into a message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def _letters() -> str:
    """A regex class body: PostgreSQL's letters (ASCII ones, `_`, every non-ASCII character).

    Non-ASCII blanks (no-break space, U+2028, ...) are left out: like the ASCII ones they
    separate tokens here, as `str.strip` treats them, so an invisible character on an empty
    line never counts as SQL. (PostgreSQL would read them as part of a name; in a statement
    the server still rejects them.)
    """
    ranges, start = ["A-Za-z_"], 0x80
    for blank in (c for c in range(0x80, 0x3001) if chr(c).isspace()):
        if blank > start:
            ranges.append(f"\\U{start:08x}-\\U{blank - 1:08x}")
        start = blank + 1
    ranges.append(f"\\U{start:08x}-\\U0010ffff")
    return "".join(ranges)


_LETTER = _letters()
# PostgreSQL's identifier: ident_start, then ident_cont (letters, digits, `_`, `$`).
_WORD = re.compile(f"[{_LETTER}][{_LETTER}0-9$]*+")
# A word or a number (digits then letters: PostgreSQL's numeric literals and their junk).
_TOKEN = re.compile(f"[0-9][A-Za-z0-9_.]*+|[{_LETTER}][{_LETTER}0-9$]*+")
_LAST_RUN = re.compile(f"[{_LETTER}0-9$]++\\Z")
# Text with nothing for the tokenizer to look at: no quote, comment, `$` quote or parameter,
# no `;` and no bracket. A `$` right after a word character belongs to the word (`a$b`).
_PLAIN = re.compile(f"""(?:[^'"\\-/$:;()\\[\\]]++|(?<=[{_LETTER}0-9$])\\$)++""")
# PostgreSQL's dollar-quote tag: an identifier without `$`, or nothing.
_DOLLAR_TAG = re.compile(f"\\$(?:[{_LETTER}][{_LETTER}0-9]*+)?\\$")
_POSITIONAL = re.compile(r"\$[0-9]++")
# Bodies after the opening quote, up to and including the closing one (possessive: no
# backtracking, so an unterminated string fails in linear time).
_STRING_REST = re.compile(r"(?:[^']++|'')*+'")
_ESCAPE_STRING_REST = re.compile(r"(?:[^'\\]++|\\.|'')*+'", re.DOTALL)
_QUOTED_NAME_REST = re.compile(r'(?:[^"]++|"")*+"')
_COMMENT_MARK = re.compile(r"/\*|\*/")
_NAME_LINE = re.compile(r"--[^\S\n]*name[^\S\n]*:")

_OPERAND, _ARRAY_KEYWORD, _OTHER = 0, 1, 2
_PAREN, _SUBSCRIPT, _CONSTRUCTOR = "'('", "subscript '['", "'['"
_BODY_OWNERS = frozenset({"function", "procedure", "trigger"})
_CREATE_MODIFIERS = frozenset({"or", "replace", "temp", "temporary"})


@dataclass(frozen=True)
class Param:
    """One `:name` occurrence: its name and its [start, end) offsets in the statement.

    The name is NFKC-normalized, as Python normalizes identifiers in source code, so
    ``:prénom`` typed in a decomposed form still matches the keyword ``prénom=``.
    """

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Opening:
    """Something opened and not (yet) closed: what it is and where it starts."""

    what: str
    offset: int


@dataclass(frozen=True)
class NameLine:
    """A ``-- name:`` comment that starts its line, as code (not inside a string or comment).

    `statement_start` is None when the line stands between statements (after the previous
    statement's ``;``): only such a line can start a block. Otherwise it is the offset where
    the unfinished statement around the line begins, and `open` what keeps it unfinished
    besides a missing ``;`` (an unclosed parenthesis or BEGIN), if anything.
    """

    offset: int
    statement_start: int | None
    open: Opening | None


@dataclass(frozen=True)
class Scan:
    """What the tokenizer found in one text."""

    params: tuple[Param, ...]
    #: Offsets of the `;` that end statements (not those inside parentheses or bodies).
    semicolons: tuple[int, ...]
    #: Offset of the first code character of each statement, in order.
    statements: tuple[int, ...]
    #: Offset just past the last code character (comments and blanks excluded).
    last_code: int
    name_lines: tuple[NameLine, ...]
    #: What was still open at the end: an unterminated quote or comment, else an unclosed
    #: parenthesis or BEGIN of the last statement, else None.
    unclosed: Opening | None


def _param_name(raw: str) -> str:
    return raw if raw.isascii() else unicodedata.normalize("NFKC", raw)


class _Lexer:
    """One pass over one text; `run` is the loop, one method per token kind."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.params: list[Param] = []
        self.semicolons: list[int] = []
        self.statements: list[int] = []
        self.name_lines: list[NameLine] = []
        self.unterminated: Opening | None = None
        self.last_code = 0
        self.last_word_end = -1
        self.last_word = ""
        self._new_statement()

    def _new_statement(self) -> None:
        self.previous = _OTHER  # the kind of the last code token, for `[`
        self.stack: list[Opening] = []  # open parentheses and brackets, innermost last
        self.parens = 0
        self.bodies: list[Opening] = []  # open BEGIN (and CASE inside one) of a body
        self.head_create = False
        self.has_body: bool | None = None  # CREATE FUNCTION/PROCEDURE/TRIGGER? None: unknown
        self.started = False

    def _code(self, start: int, end: int, kind: int) -> None:
        if not self.started:
            self.started = True
            self.statements.append(start)
        self.last_code = end
        self.previous = kind

    def run(self) -> Scan:  # noqa: PLR0912  (one branch per token kind reads best)
        sql, n, i = self.sql, len(self.sql), 0
        while i < n:
            ch = sql[i]
            if ch == "'":
                i = self._string(i)
            elif ch == '"':
                i = self._quoted(i, _QUOTED_NAME_REST, '"name"')
            elif ch == "-" and sql.startswith("--", i):
                i = self._line_comment(i)
            elif ch == "/" and sql.startswith("/*", i):
                i = self._block_comment(i)
            elif ch == "$":
                i = self._dollar(i)
            elif ch == ":":
                i = self._colon(i)
            elif ch == ";":
                self._semicolon(i)
                i += 1
            elif ch in "([":
                self._open(i)
                i += 1
            elif ch in ")]":
                self._close(ch)
                self._code(i, i + 1, _OPERAND)
                i += 1
            elif ch in "-/":
                self._code(i, i + 1, _OTHER)
                i += 1
            else:
                i = self._plain(i)
        unclosed = self.unterminated
        if unclosed is None and self.started:
            unclosed = self._open_construct()
        return Scan(
            tuple(self.params),
            tuple(self.semicolons),
            tuple(self.statements),
            self.last_code,
            tuple(self.name_lines),
            unclosed,
        )

    def _quoted(self, i: int, rest: re.Pattern[str], what: str) -> int:
        found = rest.match(self.sql, i + 1)
        if found is None:
            self.unterminated = Opening(what, i)
            self._code(i, len(self.sql), _OPERAND)
            return len(self.sql)
        self._code(i, found.end(), _OPERAND)
        return found.end()

    def _string(self, i: int) -> int:
        # E'...' (backslash escapes) only when the E is a word of its own right before the quote.
        escaped = self.last_word_end == i and self.last_word in ("e", "E")
        rest = _ESCAPE_STRING_REST if escaped else _STRING_REST
        return self._quoted(i, rest, "'string'")

    def _line_comment(self, i: int) -> int:
        sql = self.sql
        end = sql.find("\n", i)
        end = len(sql) if end < 0 else end + 1
        line_start = sql.rfind("\n", 0, i) + 1
        if _NAME_LINE.match(sql, i, end) and not sql[line_start:i].strip():
            inside = self.statements[-1] if self.started else None
            self.name_lines.append(
                NameLine(i, inside, self._open_construct() if self.started else None)
            )
        return end

    def _block_comment(self, i: int) -> int:
        depth = 0
        for mark in _COMMENT_MARK.finditer(self.sql, i):
            depth += 1 if mark.group() == "/*" else -1
            if depth == 0:
                return mark.end()
        self.unterminated = Opening("/* comment", i)
        return len(self.sql)

    def _dollar(self, i: int) -> int:
        sql = self.sql
        positional = _POSITIONAL.match(sql, i)
        if positional is not None:
            self._code(i, positional.end(), _OPERAND)
            return positional.end()
        tag = _DOLLAR_TAG.match(sql, i)
        if tag is None:  # a lone `$`: PostgreSQL rescans what follows as a word
            self._code(i, i + 1, _OTHER)
            return i + 1
        end = sql.find(tag.group(), tag.end())
        if end < 0:
            self.unterminated = Opening(f"{tag.group()} quote", i)
            self._code(i, len(sql), _OPERAND)
            return len(sql)
        end += len(tag.group())
        self._code(i, end, _OPERAND)
        return end

    def _colon(self, i: int) -> int:
        sql = self.sql
        if sql.startswith("::", i):
            self._code(i, i + 2, _OTHER)
            return i + 2
        if self.stack and self.stack[-1].what == _SUBSCRIPT:  # arr[lo:hi]: a slice
            self._code(i, i + 1, _OTHER)
            return i + 1
        word = _WORD.match(sql, i + 1)
        if word is None:
            self._code(i, i + 1, _OTHER)
            return i + 1
        self.params.append(Param(_param_name(word.group()), i, word.end()))
        self._code(i, word.end(), _OPERAND)
        return word.end()

    def _semicolon(self, i: int) -> None:
        self._code(i, i + 1, _OTHER)
        if self.parens or self.bodies:
            return
        self.semicolons.append(i)
        self._new_statement()

    def _open(self, i: int) -> None:
        if self.sql[i] == "(":
            self.stack.append(Opening(_PAREN, i))
            self.parens += 1
        elif self.previous == _OPERAND:
            self.stack.append(Opening(_SUBSCRIPT, i))
        else:
            self.stack.append(Opening(_CONSTRUCTOR, i))
        self._code(i, i + 1, _OTHER)

    def _close(self, ch: str) -> None:
        """Pop to the matching opener; a stray closer (no such opener open) is ignored."""
        paren = ch == ")"
        if paren and not self.parens:
            return
        if not paren and all(o.what == _PAREN for o in self.stack):
            return
        while self.stack:
            opener = self.stack.pop()
            if opener.what == _PAREN:
                self.parens -= 1
                if paren:
                    return
            elif not paren:
                return

    def _plain(self, i: int) -> int:
        """A run of words, numbers, operators and blanks, taken in one step."""
        sql = self.sql
        found = _PLAIN.match(sql, i)
        end = i + 1 if found is None else found.end()
        if self._wants_words():
            for token in _TOKEN.finditer(sql, i, end):
                if not token.group()[0].isdigit():
                    self._keyword(token.group().lower(), token.start())
                if not self._wants_words():
                    break
        chunk = sql[i:end]
        code_end = i + len(chunk.rstrip())
        if code_end == i:
            return end
        kind = _OTHER
        last = _LAST_RUN.search(sql, i, code_end)
        if last is not None:
            word = last.group()
            kind = _ARRAY_KEYWORD if word.lower() == "array" else _OPERAND
            if code_end == end and not word[0].isdigit():
                self.last_word, self.last_word_end = word, end
        self._code(i + len(chunk) - len(chunk.lstrip()), code_end, kind)
        return end

    def _wants_words(self) -> bool:
        """Words matter while the statement's kind is unknown, and in a body at depth 0."""
        return self.has_body is not False and not self.parens

    def _keyword(self, lower: str, i: int) -> None:
        if self.has_body is None:
            self._classify(lower)
        elif self.has_body:
            self._track_body(lower, i)

    def _classify(self, lower: str) -> None:
        """Decide from the leading words whether this statement can have a BEGIN ... END body."""
        if not self.head_create:
            self.head_create = lower == "create"
            if not self.head_create:
                self.has_body = False
        elif lower not in _CREATE_MODIFIERS:
            self.has_body = lower in _BODY_OWNERS

    def _track_body(self, lower: str, i: int) -> None:
        if lower == "begin" or (lower == "case" and self.bodies):
            self.bodies.append(Opening(lower.upper(), i))
        elif lower == "end" and self.bodies:
            self.bodies.pop()

    def _open_construct(self) -> Opening | None:
        """The outermost unclosed parenthesis or BEGIN: why a `;` would not end the statement."""
        parens = [o for o in self.stack if o.what == _PAREN]
        candidates = parens[:1] + self.bodies[:1]
        return min(candidates, key=lambda o: o.offset) if candidates else None


def scan(sql: str) -> Scan:
    """Tokenize `sql` just enough to find `:name` parameters and statement-ending `;`."""
    return _Lexer(sql).run()
