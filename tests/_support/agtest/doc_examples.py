"""The request examples of README.md and docs/*.md, found and read as ``tests/docs/test_examples.py`` runs them.

An example is a fenced block in ``sh`` (also ``shell``, ``bash``), ``console`` (commands after ``$ ``) or
``http`` (``METHOD path``, headers, a blank line, the body). The HTML comment right before it says what to do
with it (docs/README.md explains the convention for writers):

    <!-- example: expects 201; sets TENANT_ID=id -->    every HTTP answer of the block is a 201; the last JSON
                                                        answer's ``id`` becomes $TENANT_ID for later examples
    <!-- example: runs -->                               a command; it must exit 0
    <!-- example: expects 200; eventually -->           repeated (for up to 30 s) until the answer matches
    <!-- example: skip: the reason -->                   not run; the reason is required

A ``json`` block right after an example is the answer it shows: every key shown must be in the real answer
with the value shown (``"…"`` matches anything; ``$VAR`` is the variable's value; a list shown is a prefix of
the real one). A block of those languages without a comment is an error, so no example slips in unrun.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

RUNNABLE: Final = frozenset({"sh", "shell", "bash", "console", "http"})
MARKER: Final = re.compile(r"^\s*<!--\s*example:\s*(?P<spec>.*?)\s*-->\s*$")
FENCE: Final = re.compile(r"^(?P<indent>\s*)(?P<ticks>`{3,})(?P<lang>[\w+-]*)\s*$")
SETS: Final = re.compile(r"^sets\s+(?P<var>[A-Z][A-Z0-9_]*)=(?P<path>[\w.]+)$")
WILDCARDS: Final = frozenset({"…", "..."})


class ExampleError(Exception):
    """A block the convention cannot classify, or a comment it cannot read."""


@dataclass(frozen=True)
class Spec:
    skip: str | None = None
    status: int | None = None
    sets: dict[str, str] = field(default_factory=dict)
    eventually: bool = False


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    lang: str
    code: str
    spec: Spec
    answer: Any = None  # the JSON answer the doc shows, if any

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def parse_spec(text: str, where: str) -> Spec:
    """``expects 201; sets X=id; eventually``, ``runs`` or ``skip: reason``."""
    if text.startswith("skip"):
        reason = text[4:].lstrip(":, ").strip()
        if not reason:
            raise ExampleError(f"{where}: `skip` needs a reason (<!-- example: skip: why -->)")
        return Spec(skip=reason)
    status: int | None = None
    sets: dict[str, str] = {}
    eventually = runs = False
    for part in filter(None, (p.strip() for p in text.split(";"))):
        if m := re.fullmatch(r"expects (\d{3})", part):
            status = int(m[1])
        elif m := SETS.match(part):
            sets[m["var"]] = m["path"]
        elif part == "eventually":
            eventually = True
        elif part == "runs":
            runs = True
        else:
            raise ExampleError(f"{where}: cannot read {part!r} in <!-- example: {text} -->")
    if status is None and not runs:
        raise ExampleError(f"{where}: say `expects <status>` (an HTTP request) or `runs` (a command)")
    return Spec(status=status, sets=sets, eventually=eventually)


def _fenced(lines: list[str], start: int) -> tuple[str, int]:
    """The block opened at ``start``: its text and the index after its closing fence (as many backticks: a
    ```` block may show ``` blocks, which are then no examples)."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    opening = FENCE.match(lines[start])
    ticks = opening["ticks"] if opening else "```"
    end = start + 1
    while end < len(lines) and lines[end].strip() != ticks:
        end += 1
    return "\n".join(line[indent:] for line in lines[start + 1 : end]), end + 1


def _shown_answer(lines: list[str], index: int, where: str) -> tuple[Any, int]:
    """A ``json`` block following at ``index`` (after blank lines only): the answer the doc shows."""
    probe = index
    while probe < len(lines) and not lines[probe].strip():
        probe += 1
    fence = FENCE.match(lines[probe]) if probe < len(lines) else None
    if fence is None or fence["lang"] != "json":
        return None, index
    text, after = _fenced(lines, probe)
    try:
        return json.loads(text), after
    except json.JSONDecodeError as exc:
        raise ExampleError(f"{where}: the answer shown is not JSON ({exc})") from None


def examples_in(path: Path, root: Path) -> list[Example]:
    """Every example of one Markdown file, in order; raises :class:`ExampleError` for one it cannot classify."""
    doc = str(path.relative_to(root))
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    marker: tuple[str, int] | None = None
    i = 0
    while i < len(lines):
        if m := MARKER.match(lines[i]):
            marker = (m["spec"], i + 1)
            i += 1
            continue
        fence = FENCE.match(lines[i])
        if fence is None:
            if lines[i].strip():
                marker = None  # a comment counts only right before its block
            i += 1
            continue
        code, after = _fenced(lines, i)
        where = f"{doc}:{i + 1}"
        if fence["lang"] in RUNNABLE:
            if marker is None:
                raise ExampleError(
                    f"{where}: a `{fence['lang']}` block without <!-- example: ... --> before it "
                    "(expects <status> / runs / skip: reason; docs/README.md)"
                )
            spec = parse_spec(marker[0], f"{doc}:{marker[1]}")
            answer = None
            if spec.skip is None:
                answer, after = _shown_answer(lines, after, where)
            found.append(Example(doc=doc, line=i + 1, lang=fence["lang"], code=code, spec=spec, answer=answer))
        marker = None
        i = after
    return found


def commands_of(example: Example) -> str:
    """The shell text to run: a ``console`` block's ``$ `` lines, or the block as written."""
    if example.lang != "console":
        return example.code
    return "\n".join(line[2:] for line in example.code.splitlines() if line.startswith("$ "))


def json_values(text: str) -> list[Any]:
    """Every JSON value printed one after another (several curl answers, or a CLI's indented JSON)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    index = 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            index = text.find("\n", index) + 1 or len(text)  # a line that is not JSON (a CLI's message)
            continue
        values.append(value)
    return values


def mismatches(shown: Any, actual: Any, variables: dict[str, str], at: str = "$") -> list[str]:
    """Where ``actual`` differs from the answer ``shown`` (keys shown must match; see the module doc)."""
    if isinstance(shown, str) and shown in WILDCARDS:
        return []
    if isinstance(shown, str) and shown.startswith("$") and shown[1:] in variables:
        shown = variables[shown[1:]]
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{at}: shown an object, got {actual!r}"]
        return [
            problem
            for key, value in shown.items()
            for problem in (
                mismatches(value, actual[key], variables, f"{at}.{key}") if key in actual else [f"{at}.{key}: missing"]
            )
        ]
    if isinstance(shown, list):
        if not isinstance(actual, list) or len(actual) < len(shown):
            return [f"{at}: shown {len(shown)} item(s), got {actual!r}"]
        return [p for i, item in enumerate(shown) for p in mismatches(item, actual[i], variables, f"{at}[{i}]")]
    return [] if shown == actual else [f"{at}: shown {shown!r}, got {actual!r}"]


def value_at(document: Any, path: str) -> str:
    """``items.0.id`` of a JSON document, as text (what ``sets VAR=path`` stores)."""
    for part in path.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document if isinstance(document, str) else json.dumps(document)
