"""Every Python example in README.md runs, as written, in a fresh folder (SQLite files there),
and prints what the README says it prints.

An example that prints is followed by its output: a line ``It prints:`` (more words may come
before the colon), a blank line and a ```` ```text ```` block. The test compares what the
example really printed with that block, line by line (trailing blanks ignored), and fails
when an example prints but the README shows no output for it. ``...`` in the expected output
stands for any text within one line (as doctest's ELLIPSIS): for what changes from run to run,
such as times, latencies, generated ids and file names.

A block right after an ``<!-- not run: reason -->`` line is skipped (it needs a server the
reader has, not the test); the reason is reported. This keeps the README true.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(
    r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```\n"
    r"(?:\n(?P<intro>It prints[^\n]*:)\n\n```text\n(?P<output>.*?)\n```\n)?",
    re.DOTALL,
)
_SKIP = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->")
_OUTPUT_INTRO = re.compile(r"^It prints[^\n]*:$", re.MULTILINE)
WILDCARD = "..."


@dataclass(frozen=True)
class Example:
    """One python block of the README: where it is, its code, why it is not run (if so) and
    the output the README shows for it (None when it shows none)."""

    where: str
    code: str
    skip: str | None
    output: str | None


def readme_examples(text: str) -> list[Example]:
    examples = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        skip = _SKIP.search(match["before"])
        examples.append(
            Example(
                where=f"README.md:{line}",
                code=match["code"],
                skip=skip["reason"] if skip else None,
                output=match["output"],
            )
        )
    return examples


def output_matches(expected: str, printed: str) -> bool:
    """True when `printed` is `expected`, each ``...`` standing for any text within a line."""
    pattern = "\n".join(
        ".*?".join(re.escape(part) for part in line.rstrip().split(WILDCARD))
        for line in expected.rstrip("\n").splitlines()
    )
    shown = "\n".join(line.rstrip() for line in printed.rstrip("\n").splitlines())
    return re.fullmatch(pattern, shown) is not None


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 5


def test_every_output_block_belongs_to_an_example() -> None:
    # An "It prints:" that the pattern did not attach to the python block above it (a missing
    # blank line, another fence) would otherwise be compared with nothing.
    intros = len(_OUTPUT_INTRO.findall(README.read_text(encoding="utf-8")))
    assert intros == sum(e.output is not None for e in EXAMPLES)


@pytest.mark.parametrize(
    ("expected", "printed", "matches"),
    [
        ("a b", "a b", True),
        ("a b", "a c", False),
        ("a ...", "a 2026-01-02 03:04:05+00:00", True),
        ("a ...+00:00", "a 2026-01-02 03:04:05+01:00", False),
        ("... c", "a\nb c", False),  # a wildcard never spans lines
        ("a\nb", "a\nb\nc", False),  # a line too many
        ("a\nb", "a\n", False),  # a line too few
        ("x (y)", "x (y)  \n\n", True),  # trailing blanks and blank lines
        ("1.5 [z]", "105 z", False),  # regex characters are literal
    ],
)
def test_output_matches(expected: str, printed: str, matches: bool) -> None:
    assert output_matches(expected, printed) is matches


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_readme_example_runs_and_prints_what_it_shows(example: Example, tmp_path: Path) -> None:
    if example.skip:
        pytest.skip(f"{example.where}: {example.skip}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/env.db"
    done = subprocess.run(
        [sys.executable, "-c", example.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{example.where} failed:\n{done.stderr[-3000:]}"
    if example.output is None:
        assert not done.stdout.strip(), (
            f"{example.where} prints, but the README does not show what: add an "
            f"'It prints:' line and a text block after it with:\n{done.stdout}"
        )
        return
    diff = "\n".join(
        difflib.unified_diff(
            example.output.splitlines(), done.stdout.splitlines(), "README", "printed", lineterm=""
        )
    )
    assert output_matches(example.output, done.stdout), (
        f"{example.where} prints something else than the README shows ('...' matches any "
        f"text within a line):\n{diff}"
    )
