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

A section can be a small project (see "Using the kit for your own tables"). A fenced block of
any language whose first line is ``-- file: PATH`` or ``# file: PATH`` is a file of that
project: it is not run; the rest of the block is written to PATH (the marker line left out)
in the fresh folder of every example of its section, before the example runs. A ```` ```sh ````
block of such a section is the project's commands: `test_project_commands_run` runs it there
with bash, on SQLite and on PostgreSQL, and compares what it prints with the ``It prints:``
block after it, as for the Python examples.

The Python examples and files of the sections in `TYPE_CHECKED_SECTIONS` must also pass
``mypy --strict`` as written (`test_readme_section_type_checks`).
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
_BLOCK = re.compile(
    r"(?P<before>[^\n]*)\n```(?P<lang>python|sh)\n(?P<code>.*?)\n```\n"
    r"(?:\n(?P<intro>It prints[^\n]*:)\n\n```text\n(?P<output>.*?)\n```\n)?",
    re.DOTALL,
)
_FILE = re.compile(
    r"^```[\w-]+\n(?:--|#) file: (?P<path>[^\s]+)\n(?P<body>.*?)\n```$", re.DOTALL | re.MULTILINE
)
_SECTION = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)
_SKIP = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->")
_OUTPUT_INTRO = re.compile(r"^It prints[^\n]*:$", re.MULTILINE)
WILDCARD = "..."
#: Sections whose Python (examples and files) must pass `mypy --strict` as written. Issue 19
#: extends this to every section.
TYPE_CHECKED_SECTIONS = ("Calling queries", "Using the kit for your own tables", "The async face")


@dataclass(frozen=True)
class ProjectFile:
    """A file block of the README: the file's path (relative) and its text."""

    path: str
    text: str

    def write(self, folder: Path) -> Path:
        target = folder / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.text, encoding="utf-8")
        return target


@dataclass(frozen=True)
class Example:
    """One python (or project ``sh``) block of the README: where it is, its section, its
    code, why it is not run (if so), the output the README shows for it (None when it shows
    none) and the files of its section."""

    where: str
    section: str
    lang: str
    code: str
    skip: str | None
    output: str | None
    files: tuple[ProjectFile, ...] = ()

    def write_files(self, folder: Path) -> None:
        for file in self.files:
            file.write(folder)


def _section_at(text: str, offset: int) -> str:
    titles = [m["title"] for m in _SECTION.finditer(text, 0, offset)]
    return titles[-1] if titles else ""


def readme_files(text: str) -> dict[str, tuple[ProjectFile, ...]]:
    """The file blocks of each section, in README order."""
    found: dict[str, list[ProjectFile]] = {}
    for match in _FILE.finditer(text):
        section = _section_at(text, match.start())
        found.setdefault(section, []).append(ProjectFile(match["path"], match["body"] + "\n"))
    return {section: tuple(files) for section, files in found.items()}


def readme_blocks(text: str) -> list[Example]:
    """Every python and sh block that is not a file, with its section's files."""
    files = readme_files(text)
    blocks = []
    for match in _BLOCK.finditer(text):
        if _FILE.match(text, match.start("lang") - 3):
            continue  # a file of its section's project, not an example
        line = text.count("\n", 0, match.start("code"))
        skip = _SKIP.search(match["before"])
        section = _section_at(text, match.start())
        blocks.append(
            Example(
                where=f"README.md:{line}",
                section=section,
                lang=match["lang"],
                code=match["code"],
                skip=skip["reason"] if skip else None,
                output=match["output"],
                files=files.get(section, ()),
            )
        )
    return blocks


def readme_examples(text: str) -> list[Example]:
    """The Python examples: every python block that is not a file."""
    return [block for block in readme_blocks(text) if block.lang == "python"]


def project_commands(text: str) -> list[Example]:
    """The ``sh`` blocks of the sections that are projects (that have files)."""
    return [block for block in readme_blocks(text) if block.lang == "sh" and block.files]


def output_matches(expected: str, printed: str) -> bool:
    """True when `printed` is `expected`, each ``...`` standing for any text within a line."""
    pattern = "\n".join(
        ".*?".join(re.escape(part) for part in line.rstrip().split(WILDCARD))
        for line in expected.rstrip("\n").splitlines()
    )
    shown = "\n".join(line.rstrip() for line in printed.rstrip("\n").splitlines())
    return re.fullmatch(pattern, shown) is not None


README_TEXT = README.read_text(encoding="utf-8")
EXAMPLES = readme_examples(README_TEXT)
PROJECT_COMMANDS = project_commands(README_TEXT)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 5


def test_every_output_block_belongs_to_an_example() -> None:
    # An "It prints:" that the pattern did not attach to the python block above it (a missing
    # blank line, another fence) would otherwise be compared with nothing.
    intros = len(_OUTPUT_INTRO.findall(README_TEXT))
    assert intros == sum(e.output is not None for e in [*EXAMPLES, *PROJECT_COMMANDS])


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


def reader_env(database_url: str, **more: str) -> dict[str, str]:
    """The environment of a reader trying the README: none of our settings but DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    return {**env, "DATABASE_URL": database_url, **more}


def run(argv: list[str], folder: Path, env: dict[str, str]) -> CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def run_python(example: Example, folder: Path, database_url: str) -> CompletedProcess[str]:
    """Run `example` in `folder` (its section's files written there first)."""
    example.write_files(folder)
    return run([sys.executable, "-c", example.code], folder, reader_env(database_url))


def assert_prints_what_it_shows(example: Example, done: CompletedProcess[str]) -> None:
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


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_readme_example_runs_and_prints_what_it_shows(example: Example, tmp_path: Path) -> None:
    if example.skip:
        pytest.skip(f"{example.where}: {example.skip}")
    done = run_python(example, tmp_path, f"sqlite:///{tmp_path}/env.db")
    assert_prints_what_it_shows(example, done)


def test_file_blocks_are_found() -> None:
    files = readme_files(README_TEXT)
    paths = [f.path for f in files.get("Using the kit for your own tables", ())]
    assert "my_sql/watchlist.sql" in paths
    assert "migrations/sqlite/0001_watchlist.rollback.sql" in paths
    assert all(not f.text.startswith(("-- file:", "# file:")) for fs in files.values() for f in fs)
    # A file block is never run as an example, and every project has its commands.
    assert not any(e.code.startswith(("# file:", "-- file:")) for e in EXAMPLES)
    assert {c.section for c in PROJECT_COMMANDS} == set(files)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("commands", PROJECT_COMMANDS, ids=[c.where for c in PROJECT_COMMANDS])
def test_project_commands_run(
    commands: Example, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A project section's shell commands, then its Python examples, on a real database:
    they print what the README shows, and every file the commands write that the README
    shows (the generated stubs) is written as shown."""
    base: str = request.getfixturevalue("postgres_base_url")
    url = (
        f"sqlite:///{tmp_path}/data/bot.db"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = reader_env(url, TEST_DATABASE_URL=base, PATH=path)
    for file in commands.files:
        if not file.text.startswith("# Generated by `tradestore"):  # the commands write those
            file.write(tmp_path)
    done = run(["bash", "-euo", "pipefail", "-c", commands.code], tmp_path, env)
    assert_prints_what_it_shows(commands, done)
    for file in commands.files:
        assert (tmp_path / file.path).read_text(encoding="utf-8") == file.text, (
            f"{file.path} is not what the README shows for it"
        )
    # The Python examples on the same database, once the commands' migrations are undone
    # (the section's migrations folder is `migrations/`, as a project's usually is).
    undo = run(["tradestore", "rollback", "--migrations", "migrations", "--yes"], tmp_path, env)
    assert undo.returncode == 0, undo.stderr
    for example in EXAMPLES:
        if example.section == commands.section:
            assert_prints_what_it_shows(example, run_python(example, tmp_path, url))


@pytest.mark.slow
@pytest.mark.parametrize("section", TYPE_CHECKED_SECTIONS)
def test_readme_section_type_checks(section: str, tmp_path: Path) -> None:
    """`mypy --strict`, with no configuration of ours, on a section's Python as a reader would
    save it: its files, and each example as a module of its own."""
    examples = [e for e in EXAMPLES if e.section == section]
    assert examples, f"no python example in README section {section!r}"
    checked = [f.write(tmp_path) for f in examples[0].files if f.path.endswith(".py")]
    for number, example in enumerate(examples, 1):
        module = tmp_path / f"readme_example_{number}.py"
        module.write_text(example.code + "\n", encoding="utf-8")
        checked.append(module)
    mypy = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", ".mypy_cache"]
    done = run(mypy + [p.name for p in checked], tmp_path, dict(os.environ))
    where = ", ".join(e.where for e in examples)
    assert done.returncode == 0, f"mypy --strict on {section} ({where}):\n{done.stdout}"
